package dev.whatami.status;

import dev.whatami.userdata.Frequency;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * One task of a run: what it is, how it stands, and what happened to it before. Immutable; build with
 * {@link #builder(String, TaskState)}.
 *
 * @param name         the script's name (its directory and log files are named after it)
 * @param identity     the run-once identity the ledger keys it by (hex), where known
 * @param frequency    how often it runs
 * @param state        how it stands in this run
 * @param attempt      the attempt that ran or would run (1 for the first); 0 when no attempt is known
 * @param message      what happened and what to do, where there is something to say (never a secret)
 * @param source       the URL the script came from, redacted (no userinfo, no query), or where inline scripts came from
 * @param sha256       the script's SHA-256, lower-case hex, once fetched
 * @param size         the script's size in bytes, once fetched
 * @param trust        why the script may be believed, once verified
 * @param exitCode     the script's exit code (128+n when killed by signal n), once it ran
 * @param startedAt    when the script started
 * @param endedAt      when it ended
 * @param stdoutLog    the file (on the instance) holding its standard output
 * @param stderrLog    the file (on the instance) holding its standard error
 * @param tail         the last lines of its output in this run, redacted
 * @param firstFailure the first time it did not succeed (kept when the history is trimmed)
 * @param history      what happened in earlier and this run, oldest first, at most 20
 */
public record TaskStatus(String name, Optional<String> identity, Frequency frequency, TaskState state, int attempt,
                         Optional<String> message, Optional<String> source, Optional<String> sha256, OptionalLong size,
                         Optional<Trust> trust, OptionalInt exitCode, Optional<Instant> startedAt,
                         Optional<Instant> endedAt, Optional<String> stdoutLog, Optional<String> stderrLog,
                         Optional<OutputTail> tail, Optional<TaskEvent> firstFailure, List<TaskEvent> history) {
    public TaskStatus {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty() || name.length() > StatusLimits.MAX_ID) {
            throw new IllegalArgumentException("name must be 1-" + StatusLimits.MAX_ID + " characters");
        }
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(frequency, "frequency");
        Objects.requireNonNull(state, "state");
        if (attempt < 0) {
            throw new IllegalArgumentException("attempt must be >= 0, got " + attempt);
        }
        message = Objects.requireNonNull(message, "message").map(m -> StatusLimits.clip(m, StatusLimits.MAX_MESSAGE));
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(sha256, "sha256");
        Objects.requireNonNull(size, "size");
        Objects.requireNonNull(trust, "trust");
        Objects.requireNonNull(exitCode, "exitCode");
        Objects.requireNonNull(startedAt, "startedAt");
        Objects.requireNonNull(endedAt, "endedAt");
        Objects.requireNonNull(stdoutLog, "stdoutLog");
        Objects.requireNonNull(stderrLog, "stderrLog");
        Objects.requireNonNull(tail, "tail");
        Objects.requireNonNull(firstFailure, "firstFailure");
        history = List.copyOf(history);
        if (history.size() > StatusLimits.MAX_HISTORY) {
            history = history.subList(history.size() - StatusLimits.MAX_HISTORY, history.size());
        }
    }

    /** Whether it ran past its timeout. */
    public boolean timedOut() {
        return state == TaskState.TIMED_OUT;
    }

    /** A builder for a task named {@code name} in state {@code state}; every other field empty. */
    public static Builder builder(String name, TaskState state) {
        return new Builder(name, state);
    }

    /** A builder holding this task's values. */
    public Builder toBuilder() {
        Builder b = new Builder(name, state);
        b.identity = identity;
        b.frequency = frequency;
        b.attempt = attempt;
        b.message = message;
        b.source = source;
        b.sha256 = sha256;
        b.size = size;
        b.trust = trust;
        b.exitCode = exitCode;
        b.startedAt = startedAt;
        b.endedAt = endedAt;
        b.stdoutLog = stdoutLog;
        b.stderrLog = stderrLog;
        b.tail = tail;
        b.firstFailure = firstFailure;
        b.history = new ArrayList<>(history);
        return b;
    }

    /** Builds {@link TaskStatus}es. Not thread-safe. */
    public static final class Builder {
        private final String name;
        private TaskState state;
        private Optional<String> identity = Optional.empty();
        private Frequency frequency = Frequency.PER_INSTANCE;
        private int attempt;
        private Optional<String> message = Optional.empty();
        private Optional<String> source = Optional.empty();
        private Optional<String> sha256 = Optional.empty();
        private OptionalLong size = OptionalLong.empty();
        private Optional<Trust> trust = Optional.empty();
        private OptionalInt exitCode = OptionalInt.empty();
        private Optional<Instant> startedAt = Optional.empty();
        private Optional<Instant> endedAt = Optional.empty();
        private Optional<String> stdoutLog = Optional.empty();
        private Optional<String> stderrLog = Optional.empty();
        private Optional<OutputTail> tail = Optional.empty();
        private Optional<TaskEvent> firstFailure = Optional.empty();
        private List<TaskEvent> history = new ArrayList<>();

        private Builder(String name, TaskState state) {
            this.name = name;
            this.state = state;
        }

        /** Default: as given to {@link TaskStatus#builder}. */
        public Builder state(TaskState state) {
            this.state = Objects.requireNonNull(state);
            return this;
        }

        /** Default: none. */
        public Builder identity(String identity) {
            this.identity = Optional.of(identity);
            return this;
        }

        /** Default: {@link Frequency#PER_INSTANCE}. */
        public Builder frequency(Frequency frequency) {
            this.frequency = Objects.requireNonNull(frequency);
            return this;
        }

        /** Default: 0 (none known). */
        public Builder attempt(int attempt) {
            this.attempt = attempt;
            return this;
        }

        /** Default: none. */
        public Builder message(String message) {
            this.message = Optional.ofNullable(message);
            return this;
        }

        /** A redacted URL or other description of where the script came from. Default: none. */
        public Builder source(String source) {
            this.source = Optional.of(source);
            return this;
        }

        /** Default: none. */
        public Builder sha256(String sha256) {
            this.sha256 = Optional.of(sha256);
            return this;
        }

        /** Default: none. */
        public Builder size(long size) {
            this.size = OptionalLong.of(size);
            return this;
        }

        /** Default: none. */
        public Builder trust(Trust trust) {
            this.trust = Optional.of(trust);
            return this;
        }

        /** Default: none. */
        public Builder exitCode(int exitCode) {
            this.exitCode = OptionalInt.of(exitCode);
            return this;
        }

        /** Default: none. */
        public Builder startedAt(Instant at) {
            this.startedAt = Optional.of(at);
            return this;
        }

        /** Default: none. */
        public Builder endedAt(Instant at) {
            this.endedAt = Optional.of(at);
            return this;
        }

        /** Default: none. */
        public Builder logs(String stdout, String stderr) {
            this.stdoutLog = Optional.of(stdout);
            this.stderrLog = Optional.of(stderr);
            return this;
        }

        /** Default: none. */
        public Builder tail(OutputTail tail) {
            this.tail = Optional.of(tail);
            return this;
        }

        /** Default: none. */
        public Builder firstFailure(Optional<TaskEvent> event) {
            this.firstFailure = Objects.requireNonNull(event);
            return this;
        }

        /** Replaces the history (oldest first). Default: empty. */
        public Builder history(List<TaskEvent> history) {
            this.history = new ArrayList<>(history);
            return this;
        }

        public TaskStatus build() {
            return new TaskStatus(name, identity, frequency, state, attempt, message, source, sha256, size, trust,
                    exitCode, startedAt, endedAt, stdoutLog, stderrLog, tail, firstFailure, history);
        }
    }
}
