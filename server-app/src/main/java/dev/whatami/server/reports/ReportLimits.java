package dev.whatami.server.reports;

/**
 * How much a report store keeps, so that nobody who can reach the server can fill its memory or disk.
 *
 * <p>A report larger than {@code maxReportBytes} (as stored) is refused with 413. When keeping a report would make
 * more than {@code maxInstances} instances or more than {@code maxTotalBytes} in all, the instances that reported
 * least recently are forgotten until it fits (their files deleted): the newest reports always get in, and the store
 * never grows past its limits. Set {@code --report-token} so only your agents can report at all.
 *
 * <p>The defaults are sized for a fleet of 100,000 (a one-task run's report is ~500 bytes as stored): 200,000
 * instances; the database store keeps up to 1 GiB on the database's disk (the 200,000 twice over), the in-memory
 * store at most 64 MiB, which the server's heap must hold (~130,000 such reports).
 *
 * @param maxInstances   most instances kept; default {@value #DEFAULT_INSTANCES}
 * @param maxReportBytes largest report kept for one instance, in bytes as stored; default 256 KiB
 * @param maxTotalBytes  most bytes of reports kept in all; default 64 MiB in memory, 1 GiB in a database
 */
public record ReportLimits(int maxInstances, int maxReportBytes, long maxTotalBytes) {
    /** Default {@link #maxInstances()}. */
    public static final int DEFAULT_INSTANCES = 200_000;
    /** Default {@link #maxTotalBytes()} of the in-memory store: 64 MiB. */
    public static final long DEFAULT_TOTAL_BYTES = 64L << 20;
    /** Default {@link #maxTotalBytes()} of the database store: 1 GiB. */
    public static final long DATABASE_TOTAL_BYTES = 1L << 30;

    public ReportLimits {
        if (maxInstances < 1) {
            throw new IllegalArgumentException("--max-reports must be at least 1, got " + maxInstances);
        }
        if (maxReportBytes < 1024) {
            throw new IllegalArgumentException("--max-report-bytes must be at least 1024, got " + maxReportBytes);
        }
        if (maxTotalBytes < maxReportBytes) {
            throw new IllegalArgumentException("--max-reports-total (" + maxTotalBytes + ") must be at least "
                    + "--max-report-bytes (" + maxReportBytes + ")");
        }
    }

    /** For the in-memory store: 200,000 instances, 256 KiB each, 64 MiB in all. */
    public static ReportLimits defaults() {
        return new ReportLimits(DEFAULT_INSTANCES, 256 * 1024, DEFAULT_TOTAL_BYTES);
    }

    /** For a database store: 200,000 instances, 256 KiB each, 1 GiB in all. */
    public static ReportLimits databaseDefaults() {
        return new ReportLimits(DEFAULT_INSTANCES, 256 * 1024, DATABASE_TOTAL_BYTES);
    }
}
