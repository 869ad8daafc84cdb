package dev.whatami.server.reports;

import dev.whatami.status.InstanceInfo;
import dev.whatami.status.OutputTail;
import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import dev.whatami.status.StatusCodec;
import dev.whatami.status.TaskState;
import dev.whatami.status.TaskStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/** Report bodies for tests, as an agent sends them; public for the server's tests in other packages. */
public final class TestReports {
    private static final StatusCodec CODEC = StatusCodec.create();

    private TestReports() {
    }

    /** A report of {@code id}'s run {@code run}, revision {@code revision}, started at {@code start}. */
    public static byte[] report(String id, String run, long revision, Instant start, RunState state, String task) {
        RunStatus.Builder b = RunStatus.builder(state).runId(run).revision(revision).startedAt(start)
                .instance(new InstanceInfo(id, "ec2", Optional.empty(), Optional.empty()));
        state.exitCode().ifPresent(c -> b.exitCode(OptionalInt.of(c)));
        if (task != null) {
            b.tasks(List.of(TaskStatus.builder(task, state == RunState.DONE ? TaskState.SUCCEEDED : TaskState.FAILED)
                    .exitCode(state == RunState.DONE ? 0 : 1).build()));
        }
        return CODEC.write(b.build());
    }

    /** A finished run of {@code id}. */
    public static byte[] report(String id) {
        return report(id, "run-1", 1, Instant.parse("2026-12-02T00:00:00Z"), RunState.DONE, "collector.pl");
    }

    /** A report from {@code provider} with these tasks, each with a message of {@code padding} characters. */
    public static byte[] report(String id, String provider, String run, long revision, Instant start, RunState state,
            List<String> tasks, int padding) {
        RunStatus.Builder b = RunStatus.builder(state).runId(run).revision(revision).startedAt(start)
                .instance(new InstanceInfo(id, provider, Optional.empty(), Optional.empty()));
        state.exitCode().ifPresent(c -> b.exitCode(OptionalInt.of(c)));
        List<TaskStatus> ts = new ArrayList<>();
        for (String t : tasks) {
            TaskStatus.Builder tb = TaskStatus.builder(t, state == RunState.DONE ? TaskState.SUCCEEDED
                    : TaskState.FAILED).exitCode(state == RunState.DONE ? 0 : 1);
            if (padding > 0) {
                tb.message("x".repeat(padding));
            }
            ts.add(tb.build());
        }
        b.tasks(ts);
        return CODEC.write(b.build());
    }

    /** About {@code kib} KiB: many tasks with full output tails. */
    public static byte[] big(String id, int kib) {
        List<TaskStatus> tasks = new ArrayList<>();
        String line = "x".repeat(250);
        int perTask = 20 * 250;
        for (int t = 0; t < kib * 1024 / perTask; t++) {
            tasks.add(TaskStatus.builder("task" + t + ".sh", TaskState.SUCCEEDED).exitCode(0)
                    .tail(new OutputTail(Collections.nCopies(20, line), List.of())).build());
        }
        return CODEC.write(RunStatus.builder(RunState.DONE).exitCode(OptionalInt.of(0)).runId("r-" + id)
                .instance(new InstanceInfo(id, "ec2", Optional.empty(), Optional.empty())).tasks(tasks).build());
    }
}
