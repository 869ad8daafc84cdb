package dev.whatami.boot.internal;

import dev.whatami.status.AtomicFiles;
import dev.whatami.status.InstanceInfo;
import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import dev.whatami.status.StatusCodec;
import dev.whatami.status.TaskState;
import dev.whatami.status.TaskStatus;
import dev.whatami.userdata.Problem;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The record step's status half: the run's document as it grows, written to {@code status.json} (atomically, 0644:
 * true even if the agent dies mid-run), told to the listener and sent to the report endpoint after each task and at the
 * end. The one place the agent changes the status.
 */
final class RunRecord {
    private static final Logger LOG = LoggerFactory.getLogger(RunRecord.class);
    private static final StatusCodec CODEC = StatusCodec.create();

    private final Optional<Path> file;
    private final Clock clock;
    private final Consumer<RunStatus> listener;
    private final DiskReserve reserve;
    private final List<TaskStatus> tasks = new ArrayList<>();
    private RunStatus.Builder doc;
    private long revision;
    private Reporter reporter;
    private RunStatus last;

    /**
     * @param file where to write it; empty for a dry run, which writes nothing
     */
    RunRecord(Optional<Path> file, String bootId, Clock clock, Consumer<RunStatus> listener, DiskReserve reserve) {
        this.file = file;
        this.clock = clock;
        this.listener = listener;
        this.reserve = reserve;
        this.doc = RunStatus.builder(RunState.RUNNING)
                .runId(Long.toHexString(new SplittableRandom().nextLong() >>> 1))
                .startedAt(clock.instant()).pid(OptionalLong.of(ProcessHandle.current().pid())).bootId(bootId);
    }

    /** From now on, send every change to this reporter (replacing any before). */
    void reportTo(Reporter reporter) {
        if (this.reporter != null && this.reporter != reporter) {
            this.reporter.close();
        }
        this.reporter = reporter;
    }

    void start() throws IOException {
        write(false);
    }

    void instance(InstanceInfo instance) throws IOException {
        doc.instance(instance);
        write(false);
    }

    void problems(List<Problem> problems) {
        doc.problems(problems);
    }

    /** Adds or replaces (by name) a task's record; reported when it has ended. */
    void task(TaskStatus task) throws IOException {
        int i = indexOf(task.name());
        if (i < 0) {
            tasks.add(task);
        } else {
            tasks.set(i, task);
        }
        write(task.state() != TaskState.RUNNING);
    }

    List<TaskStatus> tasks() {
        return List.copyOf(tasks);
    }

    private int indexOf(String name) {
        for (int i = 0; i < tasks.size(); i++) {
            if (tasks.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    /** Ends the run in {@code state}: written, reported, logged; the agent's exit code follows from it. */
    RunStatus finish(RunState state, String message) {
        doc.state(state).message(message).finishedAt(clock.instant()).pid(OptionalLong.empty());
        try {
            write(true);
        } catch (IOException e) {
            LOG.error("could not write the status to {}: {}", file.map(Path::toString).orElse("-"), e.getMessage());
        }
        if (state == RunState.DONE) {
            LOG.info("{}{}", message, file.map(f -> " (status: " + f + ")").orElse(""));
        } else {
            LOG.error("{} (exit {}{})", message, state.exitCode().orElse(1),
                    file.map(f -> ", status: " + f).orElse(""));
        }
        if (reporter != null) {
            reporter.close();
        }
        return last;
    }

    /** The document as it stands. */
    RunStatus current() {
        return doc.tasks(tasks).revision(revision).build();
    }

    private void write(boolean report) throws IOException {
        revision++;
        last = current();
        if (file.isPresent()) {
            byte[] bytes = CODEC.write(last);
            // fsync'd only when a step has ended (what is reported): the writes of a step that has just begun
            // (running, fetching) are superseded within the boot, and a crash before the next one leaves the boot
            // interrupted whatever they said. Still atomic for every reader. ~10 ms of a boot.
            reserve.write(() -> AtomicFiles.write(file.get(), bytes, true, report));
        }
        listener.accept(last);
        if (report && reporter != null) {
            reporter.send(last);
        }
    }
}
