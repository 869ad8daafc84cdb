package dev.whatami.server;

import dev.whatami.status.ReceivedReport;
import dev.whatami.status.StatusCodec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where the server keeps the agents' phone-home reports: the latest report of each instance, read and written only
 * through {@link StatusCodec}. Bounded by {@link ReportLimits}; idempotent per instance and run (a retried
 * {@code POST} of a run's report is not a second report, and a late report of an older run does not replace a newer
 * one). Implementations are thread-safe.
 *
 * <ul>
 *   <li>{@link #inMemory()} / {@link #persistent(Path, Clock)} / {@link #embedded()}: this process only, optionally
 *       kept in files under a data directory (the default; nothing to install).</li>
 *   <li>{@code --database jdbc:postgresql://…}: shared by several servers.</li>
 * </ul>
 */
public interface ReportStore extends AutoCloseable {
    /** Largest report body accepted, in bytes (the status document's own limit). */
    int MAX_BYTES = StatusCodec.MAX_BYTES;

    /** Reports in memory only, with the default limits. */
    static ReportStore inMemory() {
        try {
            return embedded().build();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // never: nothing is read without a data directory
        }
    }

    /** Reports kept in {@code dataDir/reports} as well, loaded from there now; the default limits. */
    static ReportStore persistent(Path dataDir, Clock clock) throws IOException {
        return embedded().dataDir(dataDir).clock(clock).build();
    }

    /** A builder for the embedded store (memory, optionally files). */
    static EmbeddedReportStore.Builder embedded() {
        return EmbeddedReportStore.builder();
    }

    /**
     * Validates and keeps a report.
     *
     * @param body the request body: one status document
     * @param from the sender's address, kept with the report
     * @return what became of it
     * @throws InvalidReportException when it is not a status document of an instance, or too large to keep
     * @throws IOException            when it could not be kept (disk, database); the sender should retry
     */
    default Accepted accept(byte[] body, String from) throws InvalidReportException, IOException {
        return accept(body, from, Optional.empty());
    }

    /**
     * Validates and keeps a report that came with the sender's instance key (see {@link Reports#bind}): the first
     * report with a key binds the instance to it; later reports of a bound instance are kept only with that key.
     *
     * @throws InvalidReportException also (403) when the instance is bound to another key
     */
    Accepted accept(byte[] body, String from, Optional<String> instanceKey) throws InvalidReportException,
            IOException;

    /**
     * One page of the fleet: the matching reports, failures first and newest first within, and the counts of the
     * whole fleet.
     */
    ReportPage page(ReportQuery query) throws IOException;

    /** The limits this store keeps to. */
    ReportLimits limits();

    /**
     * Every kept report as {@link StatusCodec#toMap(ReceivedReport)} maps, failures first: for tests and small
     * fleets (a fleet view pages with {@link #page}).
     */
    default List<Map<String, Object>> all() {
        try {
            StatusCodec codec = StatusCodec.create();
            List<Map<String, Object>> out = new ArrayList<>();
            for (ReceivedReport r : page(ReportQuery.all()).each()) {
                out.add(codec.toMap(r));
            }
            return out;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    default void close() throws IOException {
    }

    /** What {@link #accept} did with a report. */
    enum Accepted {
        /** Kept: a new instance, a newer run, or a newer revision of the run. */
        STORED,
        /** A revision of this run that is already kept (a retried POST): nothing changed. */
        DUPLICATE,
        /** A report of a run older than the one kept: nothing changed. */
        STALE
    }

    /** A report that is refused: the message says what is wrong and what to send instead. */
    final class InvalidReportException extends Exception {
        private static final long serialVersionUID = 1L;
        private final int status;

        InvalidReportException(String message) {
            this(400, message);
        }

        InvalidReportException(int status, String message) {
            super(message);
            this.status = status;
        }

        /** The HTTP status that tells the sender: 400, or 413 for too large. */
        public int status() {
            return status;
        }
    }
}
