package dev.whatami.status;

import dev.whatami.userdata.Problem;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What one run of the agent did, or is doing: the document behind {@code status.json}, {@code whatami-agent status},
 * the phone-home report and the server's pages. Immutable; build with {@link #builder(RunState)}; read and write it
 * with {@link StatusCodec}.
 *
 * @param runId     identifies this run among all runs of all instances (a report sent twice is one run)
 * @param revision  how many times this run's document has changed; a server keeps the highest of a run
 * @param state     where the run stands
 * @param exitCode  the agent's exit code, once finished
 * @param message   one line saying what happened and what to do (never a secret)
 * @param startedAt when the run started
 * @param finishedAt when it finished
 * @param pid       the agent's process id while it runs (lets a reader tell a killed run from a running one)
 * @param bootId    the boot the run belongs to (a reader waiting for this boot's run ignores an earlier boot's)
 * @param instance  who the instance is, once the metadata service said
 * @param problems  what is wrong with the user-data, each with line and column (redacted by the parser)
 * @param tasks     the plan's tasks in order, each as it stands
 */
public record RunStatus(Optional<String> runId, long revision, RunState state, OptionalInt exitCode,
                        Optional<String> message, Optional<Instant> startedAt, Optional<Instant> finishedAt,
                        OptionalLong pid, Optional<String> bootId, Optional<InstanceInfo> instance,
                        List<Problem> problems,
                        List<TaskStatus> tasks) {
    public RunStatus {
        Objects.requireNonNull(runId, "runId");
        if (revision < 0) {
            throw new IllegalArgumentException("revision must be >= 0, got " + revision);
        }
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(exitCode, "exitCode");
        message = Objects.requireNonNull(message, "message").map(m -> StatusLimits.clip(m, StatusLimits.MAX_MESSAGE));
        Objects.requireNonNull(startedAt, "startedAt");
        Objects.requireNonNull(finishedAt, "finishedAt");
        Objects.requireNonNull(pid, "pid");
        Objects.requireNonNull(bootId, "bootId");
        Objects.requireNonNull(instance, "instance");
        problems = List.copyOf(problems);
        tasks = List.copyOf(tasks);
    }

    /** The task named {@code name}, if the run has one. */
    public Optional<TaskStatus> task(String name) {
        return tasks.stream().filter(t -> t.name().equals(name)).findFirst();
    }

    /** How many tasks stand in {@code state}. */
    public long count(TaskState state) {
        return tasks.stream().filter(t -> t.state() == state).count();
    }

    /** A builder for a run in {@code state}; every other field empty. */
    public static Builder builder(RunState state) {
        return new Builder(state);
    }

    /** A builder holding this run's values. */
    public Builder toBuilder() {
        Builder b = new Builder(state);
        b.runId = runId;
        b.revision = revision;
        b.exitCode = exitCode;
        b.message = message;
        b.startedAt = startedAt;
        b.finishedAt = finishedAt;
        b.pid = pid;
        b.bootId = bootId;
        b.instance = instance;
        b.problems = new ArrayList<>(problems);
        b.tasks = new ArrayList<>(tasks);
        return b;
    }

    /** Builds {@link RunStatus}es. Not thread-safe. */
    public static final class Builder {
        private RunState state;
        private Optional<String> runId = Optional.empty();
        private long revision;
        private OptionalInt exitCode = OptionalInt.empty();
        private Optional<String> message = Optional.empty();
        private Optional<Instant> startedAt = Optional.empty();
        private Optional<Instant> finishedAt = Optional.empty();
        private OptionalLong pid = OptionalLong.empty();
        private Optional<String> bootId = Optional.empty();
        private Optional<InstanceInfo> instance = Optional.empty();
        private List<Problem> problems = new ArrayList<>();
        private List<TaskStatus> tasks = new ArrayList<>();

        private Builder(RunState state) {
            this.state = Objects.requireNonNull(state);
        }

        /**
         * Sets the state and, for a finished state, the exit code that goes with it ({@link RunState#exitCode()}).
         */
        public Builder state(RunState state) {
            this.state = Objects.requireNonNull(state);
            this.exitCode = state.exitCode();
            return this;
        }

        /** Default: none. */
        public Builder runId(String runId) {
            this.runId = Optional.of(runId);
            return this;
        }

        /** Default: 0. */
        public Builder revision(long revision) {
            this.revision = revision;
            return this;
        }

        /** Default: none; {@link #state(RunState)} sets it for finished states. */
        public Builder exitCode(OptionalInt exitCode) {
            this.exitCode = Objects.requireNonNull(exitCode);
            return this;
        }

        /** Default: none. */
        public Builder message(String message) {
            this.message = Optional.ofNullable(message);
            return this;
        }

        /** Default: none. */
        public Builder startedAt(Instant at) {
            this.startedAt = Optional.ofNullable(at);
            return this;
        }

        /** Default: none. */
        public Builder finishedAt(Instant at) {
            this.finishedAt = Optional.ofNullable(at);
            return this;
        }

        /** Default: none. */
        public Builder pid(OptionalLong pid) {
            this.pid = Objects.requireNonNull(pid);
            return this;
        }

        /** Default: none. */
        public Builder bootId(String bootId) {
            this.bootId = Optional.ofNullable(bootId);
            return this;
        }

        /** Default: none. */
        public Builder instance(InstanceInfo instance) {
            this.instance = Optional.ofNullable(instance);
            return this;
        }

        /** Replaces the problems. Default: none. */
        public Builder problems(List<Problem> problems) {
            this.problems = new ArrayList<>(problems);
            return this;
        }

        /** Replaces the tasks. Default: none. */
        public Builder tasks(List<TaskStatus> tasks) {
            this.tasks = new ArrayList<>(tasks);
            return this;
        }

        public RunStatus build() {
            return new RunStatus(runId, revision, state, exitCode, message, startedAt, finishedAt, pid, bootId,
                    instance, problems, tasks);
        }
    }
}
