package dev.whatami.run.internal;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.commons.exec.ExecuteWatchdog;
import org.apache.commons.exec.Watchdog;

/**
 * Commons Exec's watchdog kills only the direct child; a script's background children would live on.
 * This one snapshots the whole tree first, asks every process to stop (SIGTERM), and kills (SIGKILL)
 * what is still alive after a grace period.
 */
final class TreeKillingWatchdog extends ExecuteWatchdog {
    private static final Duration GRACE = Duration.ofSeconds(2);
    private volatile Process process;
    private boolean killedTree;

    @SuppressWarnings("deprecation")
    TreeKillingWatchdog(Duration timeout) {
        super(timeout.toMillis());
    }

    @Override
    public synchronized void start(Process process) {
        this.process = process;
        this.killedTree = false;
        super.start(process);
    }

    @Override
    public synchronized void timeoutOccured(Watchdog w) {
        Process p = process;
        // Decided before anything is killed: stopping a child can let the script finish on its own a moment
        // later, and Commons Exec would then not count it as killed.
        killedTree = p != null && p.isAlive();
        List<ProcessHandle> tree = p == null ? List.of() : p.descendants().toList();
        super.timeoutOccured(w); // SIGTERM to the script
        tree.forEach(ProcessHandle::destroy);
        if (p == null) {
            return;
        }
        long deadline = System.nanoTime() + GRACE.toNanos();
        for (ProcessHandle h : concat(p.toHandle(), tree)) {
            long left = deadline - System.nanoTime();
            try {
                h.onExit().get(Math.max(left, 0), TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                h.destroyForcibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                h.destroyForcibly();
            }
        }
    }

    /** True when the timeout struck while the script was still running. */
    @Override
    public synchronized boolean killedProcess() {
        return killedTree;
    }

    private static List<ProcessHandle> concat(ProcessHandle first, List<ProcessHandle> rest) {
        return java.util.stream.Stream.concat(java.util.stream.Stream.of(first), rest.stream()).toList();
    }
}
