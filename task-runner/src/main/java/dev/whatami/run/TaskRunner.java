package dev.whatami.run;

import dev.whatami.run.internal.DefaultTaskRunner;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Runs a verified script: interpreter from {@code as=}, else the {@code #!} line, else the extension
 * ({@code .sh .bash .pl .py .rb}); arguments as separate argv entries; stdin closed; stdout and stderr
 * appended to {@code <log-dir>/<task>.out|.err} (mode 0640, size-capped) and optionally echoed to a
 * console line by line; on timeout the whole process tree is killed. Thread-safe.
 */
public interface TaskRunner {

    /**
     * Runs the script and waits for it.
     *
     * @return what happened, whatever the exit code
     * @throws TaskRunException when the script cannot be started at all
     */
    TaskResult run(RunRequest request);

    static Builder builder(Path logDir) {
        return new Builder(logDir);
    }

    /** Builds a {@link TaskRunner}. Not thread-safe. */
    final class Builder {
        private final Path logDir;
        private Map<String, String> baseEnvironment;
        private Consumer<String> console;
        private long maxLogBytes = 64L << 20;
        private Clock clock = Clock.systemUTC();

        private Builder(Path logDir) {
            this.logDir = Objects.requireNonNull(logDir, "logDir");
        }

        /**
         * The environment every script starts from, before {@link RunRequest#environment()} is added.
         * Default: this process's own environment (read through Commons Exec).
         */
        public Builder baseEnvironment(Map<String, String> env) {
            this.baseEnvironment = Map.copyOf(env);
            return this;
        }

        /**
         * Receives each output line as {@code [task] line}, e.g. to echo to a boot console. Called on the runner's
         * output-pumping threads (one for stdout, one for stderr) while a script runs, but never concurrently: calls
         * are serialized, so the consumer needs no locking of its own; lines of one stream arrive in order. It must
         * not block for long (the script's output waits for it). Default: none.
         */
        public Builder console(Consumer<String> console) {
            this.console = Objects.requireNonNull(console, "console");
            return this;
        }

        /** Bytes kept per log file per run; the rest is dropped with a note. Default: 64 MiB. */
        public Builder maxLogBytes(long max) {
            if (max < 1) {
                throw new IllegalArgumentException("maxLogBytes must be positive, got " + max);
            }
            this.maxLogBytes = max;
            return this;
        }

        /** Time source for start and end. Default: the system UTC clock. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        public TaskRunner build() {
            return new DefaultTaskRunner(logDir, Optional.ofNullable(baseEnvironment), Optional.ofNullable(console),
                    maxLogBytes, clock);
        }
    }
}
