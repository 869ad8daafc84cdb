package dev.whatami.server;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The agents' phone-home reports, the latest per instance. Kept in memory and, with a data directory, in
 * {@code <data>/reports/<instance>.json}, written atomically and read back at start, so they survive restarts.
 * Thread-safe.
 */
public final class ReportStore {
    /** Largest report accepted. */
    public static final int MAX_BYTES = 256 * 1024;

    private static final com.fasterxml.jackson.core.JsonFactory JSON_FACTORY = new com.fasterxml.jackson.core.JsonFactory();

    private final Optional<Path> dir;
    private final Clock clock;
    private final Map<String, Map<String, Object>> latest = new ConcurrentHashMap<>();

    private ReportStore(Optional<Path> dataDir, Clock clock) throws IOException {
        this.dir = dataDir.map(d -> d.resolve("reports"));
        this.clock = clock;
        if (dir.isPresent()) {
            Files.createDirectories(dir.get());
            StaleFiles.clean(dir.get(), n -> n.startsWith(".") && n.endsWith(".tmp"), StaleFiles.ABANDONED, clock);
            try (Stream<Path> files = Files.list(dir.get())) {
                for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".json")).toList()) {
                    try {
                        Map<String, Object> r = JSON.std.mapFrom(Files.readAllBytes(f));
                        if (r.get("instanceId") instanceof String id) {
                            latest.put(id, r);
                        }
                    } catch (IOException e) {
                        // a damaged file loses one instance's last report, not the server
                    }
                }
            }
        }
    }

    /** Reports kept in memory only. */
    public static ReportStore inMemory() {
        try {
            return new ReportStore(Optional.empty(), Clock.systemUTC());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reports kept in {@code dataDir/reports} as well, loaded from there now. */
    public static ReportStore persistent(Path dataDir, Clock clock) throws IOException {
        return new ReportStore(Optional.of(dataDir), clock);
    }

    /** A report is invalid: the message says what is wrong. */
    public static final class InvalidReportException extends Exception {
        private static final long serialVersionUID = 1L;

        InvalidReportException(String message) {
            super(message);
        }
    }

    /**
     * Validates and stores a report.
     *
     * @param remote the sender's address, kept with the report
     */
    public Map<String, Object> accept(byte[] body, String remote) throws InvalidReportException, IOException {
        Map<String, Object> report;
        try (com.fasterxml.jackson.core.JsonParser parser = JSON_FACTORY.createParser(body)) {
            report = JSON.std.mapFrom(parser);
            long end = parser.currentLocation().getByteOffset();
            boolean trailing;
            try {
                trailing = parser.nextToken() != null;
            } catch (IOException e) {
                trailing = true;
            }
            if (trailing) {
                throw new InvalidReportException("the report has something after its JSON object (from byte " + end
                        + "); send one object and nothing else");
            }
        } catch (IOException | RuntimeException e) {
            throw new InvalidReportException("the report is not a JSON object: " + e.getMessage());
        }
        if (report == null) {
            throw new InvalidReportException("the report is empty");
        }
        if (!(report.get("instanceId") instanceof String id) || id.isBlank() || id.length() > 255) {
            throw new InvalidReportException("the report needs \"instanceId\": a string of 1-255 characters");
        }
        if (report.containsKey("state") && !(report.get("state") instanceof String)) {
            throw new InvalidReportException("\"state\" must be a string");
        }
        if (report.containsKey("tasks") && !(report.get("tasks") instanceof List)) {
            throw new InvalidReportException("\"tasks\" must be an array");
        }
        Map<String, Object> kept = new LinkedHashMap<>(report);
        kept.put("receivedAt", clock.instant().toString());
        kept.put("from", remote);
        latest.put(id, kept);
        if (dir.isPresent()) {
            write(dir.get().resolve(fileName(id)), JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT).asBytes(kept));
        }
        return kept;
    }

    /** The latest report of every instance, newest first. */
    public List<Map<String, Object>> all() {
        List<Map<String, Object>> list = new ArrayList<>(latest.values());
        list.sort(Comparator.comparing((Map<String, Object> r) -> String.valueOf(r.get("receivedAt"))).reversed());
        return list;
    }

    static String fileName(String instanceId) {
        String safe = instanceId.replaceAll("[^A-Za-z0-9._-]", "_");
        return (safe.startsWith(".") ? "_" + safe.substring(1) : safe) + ".json";
    }

    private static void write(Path target, byte[] content) throws IOException {
        Path tmp = Files.createTempFile(target.getParent(), ".report", ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(content));
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
