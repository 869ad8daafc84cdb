package dev.whatami.agent.cli;

import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import dev.whatami.status.StatusCodec;
import dev.whatami.status.TaskState;
import dev.whatami.status.TaskStatus;
import dev.whatami.userdata.Frequency;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code whatami-agent status}: what the last run did, like {@code cloud-init status [--wait]}. Any user may run it. */
@Command(name = "status", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Show what the last run did. With --wait, wait until a running agent finishes. The exit code "
                + "mirrors the run's (0 done, 1 a task failed or the agent was interrupted, 2 user-data invalid, "
                + "3 metadata unreachable, 4 a script not fetched or refused); 5 when status.json cannot be read."})
final class StatusCommand implements Callable<Integer> {
    /** Waits between polls; tests replace it. */
    interface Pause {
        void pause(Duration d) throws InterruptedException;
    }

    private static final StatusCodec CODEC = StatusCodec.create();

    private final Map<String, String> env;
    private final Pause pause;
    private final java.util.function.Supplier<Optional<java.time.Instant>> kernelBooted;
    /** Whether a pid is a live process; tests replace it. */
    java.util.function.LongPredicate alive = StateFiles::alive;

    @Option(names = "--state-dir", paramLabel = "DIR", description = "Where status.json is. Default: "
            + "$WHATAMI_STATE_DIR, else state-dir= in the config file, else " + RunCommand.STATE_DIR)
    Path stateDir;

    @Option(names = "--config", paramLabel = "FILE", description = "Config file. Default: $WHATAMI_CONFIG, else "
            + "/etc/whatami/agent.properties when it exists.")
    Path config;

    @Option(names = "--json", description = "Print the status document (for tools).")
    boolean json;

    @Option(names = "--wait", description = "Wait until the agent has finished (or has not started and then runs).")
    boolean waitForIt;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "0s", description = "With --wait: give up "
            + "after this long (exit 1), e.g. 90s or 2m (a bare number is seconds); 0s waits for ever. Default: 0s")
    String timeout;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    StatusCommand(Map<String, String> env) {
        this(env, d -> Thread.sleep(d.toMillis()));
    }

    StatusCommand(Map<String, String> env, Pause pause) {
        this(env, pause, StatusCommand::kernelBootTime);
    }

    /** @param kernelBooted when this system's kernel booted ({@code btime} of {@code /proc/stat}), if known */
    StatusCommand(Map<String, String> env, Pause pause, java.util.function.Supplier<Optional<java.time.Instant>>
            kernelBooted) {
        this.env = env;
        this.pause = pause;
        this.kernelBooted = kernelBooted;
    }

    /** {@code btime} of {@code /proc/stat}: when the kernel booted; empty when it cannot be read. */
    static Optional<java.time.Instant> kernelBootTime() {
        try {
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/stat"))) {
                if (line.startsWith("btime ")) {
                    return Optional.of(java.time.Instant.ofEpochSecond(Long.parseLong(line.substring(6).strip())));
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux, or no /proc: no waiting for a run of another boot
        }
        return Optional.empty();
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Duration limit = (timeout.matches("[0-9]{1,9}") ? Optional.of(Duration.ofSeconds(Long.parseLong(timeout)))
                : Durations.parse(timeout)).orElseThrow(() -> new CommandLine.ParameterException(spec.commandLine(),
                "--timeout " + timeout + " is not a duration; write e.g. 90s, 2m or 500ms"));
        Path dir;
        try {
            dir = StateFiles.stateDir(stateDir, env, config);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        Path file = dir.resolve("status.json");
        String boot = bootId();
        long waited = 0;
        long pollMillis = 250;
        while (true) {
            Optional<RunStatus> status;
            RunState state;
            try {
                Optional<StateFiles.Settled> settled = StateFiles.readSettled(file, alive);
                status = settled.map(StateFiles.Settled::status);
                state = settled.map(StateFiles.Settled::state).orElse(null);
            } catch (StateFiles.UnreadableStatusException e) {
                // waiting, a damaged file is one this boot's agent has not rewritten yet: a power loss mid-boot can
                // leave it empty (its "step begun" writes skip the fsync); only at the time limit is it an answer
                if (!waitForIt || (!limit.isZero() && waited >= limit.toMillis())) {
                    err.println("whatami-agent status: " + e.getMessage());
                    return ExitCode.STATUS_UNREADABLE.code();
                }
                pause.pause(Duration.ofMillis(pollMillis));
                waited += pollMillis;
                continue;
            }
            // after a reboot the file still holds the previous boot's run until this boot's agent starts. A boot id
            // that differs is not enough (a container shares the host's kernel id, and docker exec does not see
            // WHATAMI_BOOT_ID): the run must also have finished before this kernel booted
            boolean earlierBoot = status.filter(st -> st.bootId().map(b -> !b.equals(boot)).orElse(false))
                    .flatMap(st -> st.finishedAt().or(st::startedAt))
                    .map(end -> kernelBooted.get().map(end::isBefore).orElse(false)).orElse(false);
            boolean finished = state != null && state.finished() && !(waitForIt && earlierBoot);
            if (finished || !waitForIt) {
                print(out, file, status, state);
                if (earlierBoot) {
                    out.println("boot: this is the last run of an earlier boot; this boot's agent has not written yet");
                    out.flush();
                }
                return state == null || state == RunState.RUNNING ? 0 : state.exitCode().orElse(1);
            }
            if (!limit.isZero() && waited >= limit.toMillis()) {
                err.println("whatami-agent status: " + (earlierBoot ? "this boot's agent has not started" : "still "
                        + (state == null ? "not run" : state.token())) + " after " + Durations.text(limit) + " ("
                        + file + ")");
                return ExitCode.TASK_FAILED.code();
            }
            pause.pause(Duration.ofMillis(pollMillis));
            waited += pollMillis;
        }
    }

    /** This boot's id, found as run finds it: WHATAMI_BOOT_ID, boot-id= in the config file, else the kernel's. */
    private String bootId() {
        try {
            return ConfigSources.load(env, config, RunCommand.KEYS).get("boot-id")
                    .orElseGet(dev.whatami.boot.Boot::systemBootId);
        } catch (IllegalArgumentException e) {
            return dev.whatami.boot.Boot.systemBootId();
        }
    }

    private void print(PrintWriter out, Path file, Optional<RunStatus> status, RunState state) {
        if (json) {
            RunStatus doc = status.map(s -> s.state() == state ? s : s.toBuilder().state(state).build())
                    .orElse(RunStatus.builder(RunState.RUNNING).message("not run yet: no " + file).build());
            out.print(new String(CODEC.write(doc), StandardCharsets.UTF_8));
        } else if (status.isEmpty()) {
            out.println("status: not run (no " + file + ")");
        } else {
            text(out, status.get(), state);
        }
        out.flush();
    }

    private static void text(PrintWriter out, RunStatus s, RunState state) {
        out.println("status: " + state.token() + (s.exitCode().isPresent() ? " (exit " + s.exitCode().getAsInt() + ")"
                : ""));
        s.instance().ifPresent(i -> out.println("instance: " + i.instanceId() + " (" + i.provider() + ")"));
        if (s.message().isPresent()) {
            out.println("message: " + s.message().get());
        } else if (state == RunState.INTERRUPTED) {
            out.println("message: the agent stopped while running (started " + s.startedAt().map(Object::toString)
                    .orElse("?") + ")");
        }
        for (TaskStatus t : s.tasks()) {
            out.println("  " + t.name() + ": " + t.state().token()
                    + (t.exitCode().isPresent() ? " (exit " + t.exitCode().getAsInt() + ")" : "")
                    + (t.attempt() > 0 ? ", attempt " + t.attempt() : "") + reset(t));
        }
        if (s.finishedAt().isPresent() && s.startedAt().isPresent()) {
            out.println("finished: " + s.finishedAt().get() + " (" + Duration.between(s.startedAt().get(),
                    s.finishedAt().get()).toMillis() + " ms)");
        }
    }

    /** What {@code reset} would change for this task. */
    private static String reset(TaskStatus t) {
        boolean kept = t.frequency() != Frequency.ALWAYS && (t.state() == TaskState.SUCCEEDED
                || t.state() == TaskState.SKIPPED || t.state() == TaskState.FAILED || t.state() == TaskState.TIMED_OUT
                || t.state() == TaskState.REFUSED);
        return kept ? "; whatami-agent reset " + t.name() + " runs it again at the next run" : "";
    }
}
