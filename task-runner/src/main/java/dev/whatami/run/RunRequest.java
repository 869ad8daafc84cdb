package dev.whatami.run;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One script to run. Immutable; build with {@link #builder(String, Path)}.
 *
 * @param task        the task's name; names the log files {@code <task>.out} and {@code <task>.err}
 * @param script      the verified script file
 * @param args        arguments, each its own argv entry (never joined into a shell string)
 * @param environment variables added to the base environment ({@code WHATAMI_*}, {@code env.*})
 * @param interpreter overrides shebang and extension (user-data {@code as=})
 * @param timeout     after this the whole process tree is killed
 * @param workingDir  the process's working directory
 * @param attempt     which attempt this is (1 for the first), written to the log header
 * @param sha256      the script's digest, written to the log header
 */
public record RunRequest(String task, Path script, List<String> args, Map<String, String> environment,
                         Optional<String> interpreter, Optional<Duration> timeout, Path workingDir, int attempt,
                         String sha256) {
    public RunRequest {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(script, "script");
        args = List.copyOf(args);
        environment = Map.copyOf(environment);
        Objects.requireNonNull(interpreter, "interpreter");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(workingDir, "workingDir");
        Objects.requireNonNull(sha256, "sha256");
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt must be >= 1, got " + attempt);
        }
        timeout.ifPresent(t -> {
            if (t.isNegative() || t.isZero()) {
                throw new IllegalArgumentException("timeout must be positive, got " + t);
            }
        });
    }

    public static Builder builder(String task, Path script) {
        return new Builder(task, script);
    }

    /** Builds {@link RunRequest}s. */
    public static final class Builder {
        private final String task;
        private final Path script;
        private final List<String> args = new ArrayList<>();
        private final Map<String, String> environment = new LinkedHashMap<>();
        private Optional<String> interpreter = Optional.empty();
        private Optional<Duration> timeout = Optional.empty();
        private Path workingDir;
        private int attempt = 1;
        private String sha256 = "";

        private Builder(String task, Path script) {
            this.task = task;
            this.script = script;
        }

        /** Default: none. */
        public Builder args(List<String> args) {
            this.args.addAll(args);
            return this;
        }

        /** Adds variables to the base environment. Default: none. */
        public Builder environment(Map<String, String> env) {
            this.environment.putAll(env);
            return this;
        }

        /** Default: from the shebang, else the extension. */
        public Builder interpreter(Optional<String> interpreter) {
            this.interpreter = Objects.requireNonNull(interpreter);
            return this;
        }

        /** Default: no limit. */
        public Builder timeout(Optional<Duration> timeout) {
            this.timeout = Objects.requireNonNull(timeout);
            return this;
        }

        /** Default: the script's directory. */
        public Builder workingDir(Path dir) {
            this.workingDir = Objects.requireNonNull(dir);
            return this;
        }

        /** Default: 1. */
        public Builder attempt(int attempt) {
            this.attempt = attempt;
            return this;
        }

        /** Default: empty. */
        public Builder sha256(String sha256) {
            this.sha256 = Objects.requireNonNull(sha256);
            return this;
        }

        public RunRequest build() {
            Path dir = workingDir != null ? workingDir : script.toAbsolutePath().getParent();
            return new RunRequest(task, script, args, environment, interpreter, timeout, dir, attempt, sha256);
        }
    }
}
