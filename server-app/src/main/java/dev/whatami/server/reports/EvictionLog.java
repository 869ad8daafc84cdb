package dev.whatami.server.reports;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * Says that a store forgot instances to stay within its limits: at most once a minute, with the running total, so a
 * flood of reports does not flood the log too. Thread-safe.
 */
final class EvictionLog {
    private final Logger log;
    private final AtomicLong forgotten = new AtomicLong();
    private final AtomicLong last = new AtomicLong(System.nanoTime() - TimeUnit.HOURS.toNanos(1));

    EvictionLog(Logger log) {
        this.log = log;
    }

    /** {@code n} more instances were forgotten under {@code limits}. */
    void forgot(int n, ReportLimits limits) {
        if (n == 0) {
            return;
        }
        long total = forgotten.addAndGet(n);
        long now = System.nanoTime();
        long then = last.get();
        if (now - then > TimeUnit.MINUTES.toNanos(1) && last.compareAndSet(then, now)) {
            log.info("report limits reached ({}): {} instance(s) that reported least recently forgotten so far", limits,
                    total);
        }
    }
}
