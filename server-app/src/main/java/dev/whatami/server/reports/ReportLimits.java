package dev.whatami.server.reports;

/**
 * How much a report store keeps, so that nobody who can reach the server can fill its memory or disk.
 *
 * <p>A report larger than {@code maxReportBytes} (as stored) is refused with 413. When keeping a report would make
 * more than {@code maxInstances} instances or more than {@code maxTotalBytes} in all, the instances that reported
 * least recently are forgotten until it fits (their files deleted): the newest reports always get in, and the store
 * never grows past its limits. Set {@code --report-token} so only your agents can report at all.
 *
 * @param maxInstances   most instances kept; default {@value #DEFAULT_INSTANCES}
 * @param maxReportBytes largest report kept for one instance, in bytes as stored; default 256 KiB
 * @param maxTotalBytes  most bytes of reports kept in all; default 64 MiB
 */
public record ReportLimits(int maxInstances, int maxReportBytes, long maxTotalBytes) {
    /** Default {@link #maxInstances()}. */
    public static final int DEFAULT_INSTANCES = 50_000;

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

    /** 50,000 instances, 256 KiB each, 64 MiB in all. */
    public static ReportLimits defaults() {
        return new ReportLimits(DEFAULT_INSTANCES, 256 * 1024, 64L << 20);
    }
}
