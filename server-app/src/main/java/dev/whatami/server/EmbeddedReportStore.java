package dev.whatami.server;

import dev.whatami.status.AtomicFiles;
import dev.whatami.status.InstanceInfo;
import dev.whatami.status.ReceivedReport;
import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import dev.whatami.status.StatusCodec;
import dev.whatami.status.StatusFormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default report store: the latest report of each instance in memory — as the bytes {@link StatusCodec} wrote,
 * so the limits count exactly what is held, and a page decodes only the reports it shows — and, with a data
 * directory, in one file per instance under {@code <data>/reports/}, written atomically ({@link AtomicFiles}) and
 * read back at start.
 *
 * <p>File names are {@code <readable part of the id>.<SHA-256 of the id>.json}: ids that differ anywhere, even in
 * one character or only in case, never share a file, and every id of up to 255 characters fits (the name is at most
 * 118 characters). Files written by the previous version ({@code <id with odd characters replaced>.json}) are read
 * and renamed at start. Damaged files are skipped with a warning and left for the operator.
 *
 * <p>Thread-safe: reports of different instances are stored in parallel; one instance's reports one at a time.
 */
public final class EmbeddedReportStore implements ReportStore {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedReportStore.class);
    private static final int STRIPES = 64;

    private final StatusCodec codec = StatusCodec.create();
    private final Optional<Path> dir;
    private final Clock clock;
    private final ReportLimits limits;
    /** In the order reports arrived: the first is the instance that reported least recently. Guarded by itself. */
    private final LinkedHashMap<String, Entry> byId = new LinkedHashMap<>();
    private long totalBytes;
    private final EvictionLog evictionLog = new EvictionLog(LOG);
    private final Object[] stripes = new Object[STRIPES];

    private EmbeddedReportStore(Builder b) throws IOException {
        this.dir = b.dataDir.map(d -> d.resolve("reports"));
        this.clock = b.clock;
        this.limits = b.limits;
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Object();
        }
        if (dir.isPresent()) {
            load(dir.get());
        }
    }

    /** A builder; by default in memory only, with {@link ReportLimits#defaults()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** One kept report: what the fleet view orders and counts by, and the stored bytes. */
    private record Entry(String instanceId, Optional<String> runId, long revision, Optional<Instant> startedAt,
            Instant receivedAt, String provider, String role, RunState state, byte[] stored, Optional<byte[]> keyHash)
            implements Fleet.Row {
        static Entry of(ReceivedReport r, byte[] stored, Optional<byte[]> keyHash) {
            RunStatus s = r.status();
            InstanceInfo i = s.instance().orElseThrow();
            return new Entry(i.instanceId(), s.runId(), s.revision(), s.startedAt(), r.receivedAt(), i.provider(),
                    Fleet.role(s), s.state(), stored, keyHash);
        }
    }

    @Override
    public Accepted accept(byte[] body, String from, Optional<String> instanceKey) throws InvalidReportException,
            IOException {
        RunStatus status = Reports.parse(codec, body, clock.instant());
        String id = status.instance().orElseThrow().instanceId();
        List<Entry> evicted;
        synchronized (stripe(id)) {
            Entry old;
            synchronized (byId) {
                old = byId.get(id);
            }
            Optional<byte[]> keyHash = Reports.bind(id, old == null ? Optional.empty() : old.keyHash(), instanceKey);
            Accepted verdict = Reports.compare(old == null ? null : old.runId(), old == null ? 0 : old.revision(),
                    old == null ? Optional.empty() : old.startedAt(), old == null ? null : old.state(), status);
            if (verdict != Accepted.STORED) {
                return verdict;
            }
            ReceivedReport received = new ReceivedReport(status, clock.instant(), from);
            byte[] stored = codec.write(received);
            Reports.checkSize(stored.length, limits);
            if (dir.isPresent()) {
                if (keyHash.isPresent() && (old == null || old.keyHash().isEmpty())) {
                    // the binding first, so a report on disk is never unbound by a crash between the two
                    AtomicFiles.write(dir.get().resolve(keyFileName(id)), HexFormat.of().formatHex(keyHash.get())
                            .getBytes(StandardCharsets.US_ASCII));
                }
                AtomicFiles.write(dir.get().resolve(fileName(id)), stored);
            }
            evicted = put(Entry.of(received, stored, keyHash));
        }
        forget(evicted);
        return Accepted.STORED;
    }

    /** Keeps {@code e}, then forgets the least recent instances past the limits; returns those. */
    private List<Entry> put(Entry e) {
        List<Entry> evicted = new ArrayList<>();
        synchronized (byId) {
            Entry prev = byId.remove(e.instanceId());
            if (prev != null) {
                totalBytes -= prev.stored().length;
            }
            byId.put(e.instanceId(), e);
            totalBytes += e.stored().length;
            Iterator<Entry> oldest = byId.values().iterator();
            while ((byId.size() > limits.maxInstances() || totalBytes > limits.maxTotalBytes()) && oldest.hasNext()) {
                Entry victim = oldest.next();
                if (victim == e) {
                    break;
                }
                oldest.remove();
                totalBytes -= victim.stored().length;
                evicted.add(victim);
            }
        }
        return evicted;
    }

    /** Deletes the files of forgotten instances, unless they reported again meanwhile. */
    private void forget(List<Entry> evicted) {
        if (evicted.isEmpty()) {
            return;
        }
        evictionLog.forgot(evicted.size(), limits);
        if (dir.isEmpty()) {
            return;
        }
        for (Entry v : evicted) {
            synchronized (stripe(v.instanceId())) {
                synchronized (byId) {
                    if (byId.containsKey(v.instanceId())) {
                        continue;
                    }
                }
                try {
                    Files.deleteIfExists(dir.get().resolve(fileName(v.instanceId())));
                    Files.deleteIfExists(dir.get().resolve(keyFileName(v.instanceId())));
                } catch (IOException ex) {
                    LOG.warn("could not delete the report of forgotten instance {}: {}", v.instanceId(), ex.toString());
                }
            }
        }
    }

    @Override
    public ReportPage page(ReportQuery query) {
        List<Entry> all;
        synchronized (byId) {
            all = new ArrayList<>(byId.values());
        }
        ReportPage.Counts counts = Fleet.count(all);
        List<Entry> matching = new ArrayList<>();
        for (Entry e : all) {
            if (query.matches(e.role(), e.state(), e.provider())) {
                matching.add(e);
            }
        }
        matching.sort(Fleet.ORDER);
        List<byte[]> page = new ArrayList<>();
        int from = (int) Math.min(query.offset(), matching.size());
        int to = (int) Math.min((long) from + query.limit(), matching.size());
        for (Entry e : matching.subList(from, to)) {
            page.add(e.stored());
        }
        return new ReportPage(page, matching.size(), counts, query);
    }

    @Override
    public ReportLimits limits() {
        return limits;
    }

    /** Bytes held, all reports together; for tests. */
    long totalBytes() {
        synchronized (byId) {
            return totalBytes;
        }
    }

    /** The file that keeps {@code instanceId}'s report: injective, at most 118 characters, never hidden. */
    static String fileName(String instanceId) {
        StringBuilder readable = new StringBuilder(48);
        for (int i = 0; i < instanceId.length() && readable.length() < 48; i++) {
            char c = instanceId.charAt(i);
            readable.append(c < 128 && (Character.isLetterOrDigit(c) || c == '-' || c == '_') ? c : '_');
        }
        return readable + "." + sha256(instanceId) + ".json";
    }

    /** The file beside an instance's report holding the hash of the key it is bound to. */
    static String keyFileName(String instanceId) {
        String report = fileName(instanceId);
        return report.substring(0, report.length() - ".json".length()) + ".key";
    }

    private static Optional<byte[]> readKey(Path file) {
        try {
            String hex = Files.readString(file, StandardCharsets.US_ASCII).strip();
            return Optional.of(HexFormat.of().parseHex(hex));
        } catch (java.nio.file.NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | IllegalArgumentException e) {
            // an unreadable binding must not unbind the instance: refuse its reports until an operator looks
            LOG.warn("the instance key file {} is damaged ({}); that instance's reports are refused until it is "
                    + "removed with its report", file, e.getClass().getSimpleName());
            return Optional.of(new byte[0]);
        }
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private Object stripe(String id) {
        return stripes[Math.floorMod(id.hashCode(), STRIPES)];
    }

    private void load(Path reports) throws IOException {
        Files.createDirectories(reports);
        StaleFiles.clean(reports, n -> n.startsWith(".") && n.endsWith(".tmp"), StaleFiles.ABANDONED, clock);
        Map<String, ReceivedReport> newest = new HashMap<>();
        Map<String, List<Path>> files = new HashMap<>();
        try (DirectoryStream<Path> list = Files.newDirectoryStream(reports, "*.json")) {
            for (Path f : list) {
                if (f.getFileName().toString().startsWith(".") || !Files.isRegularFile(f)) {
                    continue;
                }
                ReceivedReport r;
                try {
                    r = codec.readReceived(Files.readAllBytes(f));
                } catch (StatusFormatException | IOException e) {
                    LOG.warn("skipped the damaged report file {}: {}", f, e.getMessage());
                    continue;
                }
                if (r.status().instance().isEmpty()) {
                    LOG.warn("skipped the report file {}: it names no instance", f);
                    continue;
                }
                String id = r.status().instance().get().instanceId();
                files.computeIfAbsent(id, k -> new ArrayList<>()).add(f);
                newest.merge(id, r, (a, b) -> a.receivedAt().isAfter(b.receivedAt()) ? a : b);
            }
        }
        List<ReceivedReport> ordered = new ArrayList<>(newest.values());
        ordered.sort(Comparator.comparing(ReceivedReport::receivedAt));
        List<Entry> evicted = new ArrayList<>();
        for (ReceivedReport r : ordered) {
            String id = r.status().instance().get().instanceId();
            byte[] stored = codec.write(r);
            Path target = reports.resolve(fileName(id));
            List<Path> had = files.get(id);
            if (!had.equals(List.of(target))) {
                // written by the previous version (lossy name), or a second copy: keep one, under the new name
                AtomicFiles.write(target, stored);
                for (Path f : had) {
                    if (!f.equals(target)) {
                        Files.deleteIfExists(f);
                    }
                }
            }
            Optional<byte[]> keyHash = readKey(reports.resolve(keyFileName(id)));
            if (stored.length > limits.maxReportBytes()) {
                evicted.add(Entry.of(r, stored, keyHash));
                continue;
            }
            evicted.addAll(put(Entry.of(r, stored, keyHash)));
        }
        for (Entry v : evicted) {
            synchronized (byId) {
                if (byId.containsKey(v.instanceId())) {
                    continue;
                }
            }
            Files.deleteIfExists(reports.resolve(fileName(v.instanceId())));
            Files.deleteIfExists(reports.resolve(keyFileName(v.instanceId())));
        }
        if (!evicted.isEmpty()) {
            LOG.info("report limits ({}): forgot {} instance(s) at start", limits, evicted.size());
        }
    }

    /** Builds an {@link EmbeddedReportStore}. */
    public static final class Builder {
        private Optional<Path> dataDir = Optional.empty();
        private Clock clock = Clock.systemUTC();
        private ReportLimits limits = ReportLimits.defaults();

        private Builder() {
        }

        /** Keep reports in {@code dir/reports/} as well, and load them from there at {@link #build()}. Default: memory only. */
        public Builder dataDir(Path dir) {
            this.dataDir = Optional.of(dir);
            return this;
        }

        /** The clock that stamps {@code receivedAt}. Default: the system clock (UTC). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** How much is kept. Default: {@link ReportLimits#defaults()}. */
        public Builder limits(ReportLimits limits) {
            this.limits = Objects.requireNonNull(limits, "limits");
            return this;
        }

        /**
         * The store, with the data directory's reports loaded.
         *
         * @throws IOException when the data directory cannot be created or read
         */
        public EmbeddedReportStore build() throws IOException {
            return new EmbeddedReportStore(this);
        }
    }
}
