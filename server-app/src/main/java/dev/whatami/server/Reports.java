package dev.whatami.server;

import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import dev.whatami.status.StatusCodec;
import dev.whatami.status.StatusFormatException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/** The rules every report store applies to an incoming report, whatever it keeps it in. */
final class Reports {
    private Reports() {
    }

    /**
     * How far ahead of the server's clock a report's times may be: an instance's clock that is a little fast is
     * not an attack, but a run dated years ahead would make every later genuine report of the instance "stale".
     */
    static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(5);

    /**
     * The report, read by the codec; refused unless it is a status document that names its instance and none of
     * its run's times is more than {@link #MAX_CLOCK_SKEW} after {@code now}.
     */
    static RunStatus parse(StatusCodec codec, byte[] body, Instant now) throws ReportStore.InvalidReportException {
        if (body.length > StatusCodec.MAX_BYTES) {
            throw new ReportStore.InvalidReportException(413, "reports are at most " + StatusCodec.MAX_BYTES + " bytes");
        }
        RunStatus status;
        try {
            status = codec.read(body);
        } catch (StatusFormatException e) {
            throw new ReportStore.InvalidReportException(e.getMessage());
        }
        if (status.instance().isEmpty()) {
            throw new ReportStore.InvalidReportException("the report needs \"instanceId\": a string of 1-255 "
                    + "characters");
        }
        Instant latest = now.plus(MAX_CLOCK_SKEW);
        for (Optional<Instant> t : java.util.List.of(status.startedAt(), status.finishedAt())) {
            if (t.isPresent() && t.get().isAfter(latest)) {
                throw new ReportStore.InvalidReportException("the report's run is dated " + t.get() + ", after this "
                        + "server's clock (" + now + ") by more than " + MAX_CLOCK_SKEW.toMinutes() + " minutes; set "
                        + "the instance's clock (NTP) and report again");
            }
        }
        return status;
    }

    /** The header an agent sends its instance key in, on every report. */
    static final String KEY_HEADER = "Whatami-Instance-Key";

    /**
     * Binds reports to the instance that sent them (trust on first use): the first report of an instance that
     * carries a key binds the instance to that key's SHA-256, and from then on a report of that instance is kept
     * only with the same key. Without a fleet-wide secret per instance, this is what stops a holder of the report
     * token (any instance of the fleet) from rewriting another instance's report.
     *
     * @param keptHash the bound key's hash, if the instance is bound
     * @param given    the key the report came with
     * @return the hash to keep with the report
     * @throws ReportStore.InvalidReportException 403 when the instance is bound and the key is missing or another
     */
    static Optional<byte[]> bind(String instanceId, Optional<byte[]> keptHash, Optional<String> given)
            throws ReportStore.InvalidReportException {
        Optional<byte[]> givenHash = given.map(Reports::keyHash);
        if (keptHash.isEmpty()) {
            return givenHash;
        }
        if (givenHash.isEmpty() || !java.security.MessageDigest.isEqual(keptHash.get(), givenHash.get())) {
            throw new ReportStore.InvalidReportException(403, "the reports of this instance are bound to the "
                    + "instance key it first reported with, and this report " + (givenHash.isEmpty() ? "carries no key"
                    : "carries another") + "; only that instance can replace its report (an instance whose state "
                    + "directory was wiped is let in again once its report is removed from the server)");
        }
        return keptHash;
    }

    /** The key as the store keeps it: its SHA-256, never the key. */
    static byte[] keyHash(String key) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(key.getBytes(
                    java.nio.charset.StandardCharsets.US_ASCII));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** Whether a header value can be an instance key: 16-256 of {@code [A-Za-z0-9_-]}. */
    static boolean validKey(String key) {
        return key.length() >= 16 && key.length() <= 256 && key.chars().allMatch(c -> c < 128
                && (Character.isLetterOrDigit(c) || c == '-' || c == '_'));
    }

    /** Refused (413) when a report is larger, as kept, than the store keeps for one instance. */
    static void checkSize(int storedBytes, ReportLimits limits) throws ReportStore.InvalidReportException {
        if (storedBytes > limits.maxReportBytes()) {
            throw new ReportStore.InvalidReportException(413, "the report is " + storedBytes + " bytes as kept; this "
                    + "server keeps at most " + limits.maxReportBytes() + " bytes per instance (--max-report-bytes)");
        }
    }

    /**
     * Idempotency per instance and run: a revision of the kept run that is not newer is a duplicate (a retried
     * POST); a run that started before the kept one is stale (a late retry). Reports without a run id (agents before
     * 2026-12) replace the kept one, except that a run which has ended (same start) never goes back to running.
     */
    static ReportStore.Accepted compare(Optional<String> keptRun, long keptRevision, Optional<Instant> keptStart,
            RunState keptState, RunStatus incoming) {
        if (keptRun == null) {
            return ReportStore.Accepted.STORED;
        }
        if (keptRun.isPresent() && keptRun.equals(incoming.runId())) {
            return incoming.revision() > keptRevision ? ReportStore.Accepted.STORED : ReportStore.Accepted.DUPLICATE;
        }
        if (keptRun.isEmpty() && incoming.runId().isEmpty() && keptState.finished() && !incoming.state().finished()
                && keptStart.isPresent() && incoming.startedAt().isPresent()
                && micros(keptStart.get()).equals(micros(incoming.startedAt().get()))) {
            // no run id, but the same start: the same run, which has ended — a "running" report of it arriving
            // now is a late retry (its first attempt timed out and was answered after the final report), not news
            return ReportStore.Accepted.DUPLICATE;
        }
        if (keptStart.isPresent() && incoming.startedAt().isPresent()
                && micros(incoming.startedAt().get()).isBefore(micros(keptStart.get()))) {
            return ReportStore.Accepted.STALE;
        }
        return ReportStore.Accepted.STORED;
    }

    /** As PostgreSQL keeps times: to the microsecond. */
    private static Instant micros(Instant i) {
        return i.truncatedTo(java.time.temporal.ChronoUnit.MICROS);
    }
}
