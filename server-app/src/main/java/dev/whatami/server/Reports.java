package dev.whatami.server;

import dev.whatami.status.RunStatus;
import dev.whatami.status.StatusCodec;
import dev.whatami.status.StatusFormatException;
import java.time.Instant;
import java.util.Optional;

/** The rules every report store applies to an incoming report, whatever it keeps it in. */
final class Reports {
    private Reports() {
    }

    /** The report, read by the codec; refused unless it is a status document that names its instance. */
    static RunStatus parse(StatusCodec codec, byte[] body) throws ReportStore.InvalidReportException {
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
        return status;
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
     * 2026-12) always replace.
     */
    static ReportStore.Accepted compare(Optional<String> keptRun, long keptRevision, Optional<Instant> keptStart,
            RunStatus incoming) {
        if (keptRun == null) {
            return ReportStore.Accepted.STORED;
        }
        if (keptRun.isPresent() && keptRun.equals(incoming.runId())) {
            return incoming.revision() > keptRevision ? ReportStore.Accepted.STORED : ReportStore.Accepted.DUPLICATE;
        }
        if (keptStart.isPresent() && incoming.startedAt().isPresent()
                && incoming.startedAt().get().isBefore(keptStart.get())) {
            return ReportStore.Accepted.STALE;
        }
        return ReportStore.Accepted.STORED;
    }
}
