package dev.whatami.boot.internal;

import dev.whatami.boot.Boot;
import dev.whatami.fetch.FetchResult;
import dev.whatami.boot.Ledger;
import dev.whatami.run.TaskResult;
import dev.whatami.run.TaskRunException;
import dev.whatami.status.AtomicFiles;
import dev.whatami.status.OutputTail;
import dev.whatami.status.StatusCodec;
import dev.whatami.status.TaskEvent;
import dev.whatami.status.TaskState;
import dev.whatami.status.TaskStatus;
import dev.whatami.userdata.Redact;
import dev.whatami.userdata.TaskSource;
import dev.whatami.userdata.TaskSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One task through the steps — decide, obtain, verify, execute — with the record step after each: the status document
 * ({@link RunRecord}) and the ledger. The only place a task's outcome is decided.
 */
final class TaskPipeline {
    private static final StatusCodec CODEC = StatusCodec.create();

    private final Decide decide;
    private final Obtain obtain;
    private final Verify verify;
    private final Execute execute;
    private final Ledger ledger;
    private final RunRecord record;
    private final DiskReserve reserve;
    private final Secrets secrets;
    private final Boot.Hints hints;
    private final StateLayout layout;
    private final String instanceId;
    private final Clock clock;

    TaskPipeline(Decide decide, Obtain obtain, Verify verify, Execute execute, Ledger ledger, RunRecord record,
                 DiskReserve reserve, Secrets secrets, Boot.Hints hints, StateLayout layout, String instanceId,
                 Clock clock) {
        this.decide = decide;
        this.obtain = obtain;
        this.verify = verify;
        this.execute = execute;
        this.ledger = ledger;
        this.record = record;
        this.reserve = reserve;
        this.secrets = secrets;
        this.hints = hints;
        this.layout = layout;
        this.instanceId = instanceId;
        this.clock = clock;
    }

    /** Runs {@code task} as far as it goes; the returned status is recorded already. */
    TaskStatus run(TaskSpec task) throws IOException {
        Ledger.Task entry = Decide.entry(task);
        Ledger.Decision d = decide.decide(task);
        TaskStatus.Builder status = TaskStatus.builder(task.name(), TaskState.RUNNING).identity(entry.key())
                .frequency(task.frequency()).attempt(d.attempt());
        source(task).ifPresent(status::source);
        if (d.action() != Ledger.Action.RUN) {
            return recorded(withHistory(status.state(d.state()).message(d.action() == Ledger.Action.SKIP ? d.reason()
                    : "not run: " + d.reason()), entry));
        }
        record.task(status.build());
        Optional<String> refusal = verify.admit(task);
        if (refusal.isPresent()) {
            return notRun(entry, status, TaskState.REFUSED, refusal.get());
        }
        Path taskDir = layout.taskDir(instanceId, task.name());
        Obtain.Obtained obtained = obtain.obtain(task, taskDir);
        if (obtained instanceof Obtain.Missing missing) {
            String hint = hints.hint(missing.error()).orElse("");
            return notRun(entry, status, missing.state(), sentences(missing.error().getMessage(), hint));
        }
        FetchResult fetched = ((Obtain.Placed) obtained).result();
        status.source(task.source() instanceof TaskSource.Inline ? fetched.source().toString()
                : Redact.url(fetched.source())).sha256(fetched.sha256()).size(fetched.size()).trust(fetched.trust());
        refusal = verify.check(task, fetched);
        if (refusal.isPresent()) {
            return notRun(entry, status, TaskState.REFUSED, refusal.get());
        }
        return ran(task, entry, status, fetched, d.attempt());
    }

    private TaskStatus ran(TaskSpec task, Ledger.Task entry, TaskStatus.Builder status, FetchResult fetched,
                           int attempt) throws IOException {
        reserve.write(() -> ledger.started(entry, attempt));
        TaskResult result;
        try {
            result = execute.run(task, fetched, attempt);
        } catch (TaskRunException e) {
            TaskEvent event = new TaskEvent(clock.instant(), TaskState.FAILED, attempt, OptionalInt.empty(),
                    Optional.of(e.getMessage()));
            reserve.write(() -> ledger.ran(entry, attempt, event));
            return recorded(withHistory(status.state(TaskState.FAILED).message(e.getMessage()), entry));
        }
        TaskState state = result.succeeded() ? TaskState.SUCCEEDED : result.timedOut() ? TaskState.TIMED_OUT
                : TaskState.FAILED;
        String message = state == TaskState.SUCCEEDED ? null : "task " + task.name() + (state == TaskState.TIMED_OUT
                ? " timed out after " + task.timeout().orElseThrow().toString().substring(2).toLowerCase()
                : " exited " + result.exitCode()) + "; see " + result.stderr();
        TaskEvent event = new TaskEvent(result.end(), state, attempt, OptionalInt.of(result.exitCode()),
                Optional.ofNullable(message));
        reserve.write(() -> ledger.ran(entry, attempt, event));
        status.state(state).message(message).exitCode(result.exitCode()).startedAt(result.start())
                .endedAt(result.end()).logs(result.stdout().toString(), result.stderr().toString())
                .tail(new OutputTail(secrets.redact(result.stdoutTail()), secrets.redact(result.stderrTail())));
        TaskStatus done = withHistory(status, entry);
        Path resultFile = layout.taskDir(instanceId, task.name()).resolve("result.json");
        reserve.write(() -> AtomicFiles.write(resultFile, CODEC.write(done)));
        return recorded(done);
    }

    /** The script did not run: refused or not fetched; no attempt is spent. */
    private TaskStatus notRun(Ledger.Task entry, TaskStatus.Builder status, TaskState state, String message)
            throws IOException {
        String next = state == TaskState.REFUSED ? " It never runs unverified; it is tried again at the next boot."
                : " It did not run and no attempt was spent; it is tried again at the next run.";
        int attempt = status.build().attempt();
        TaskEvent event = new TaskEvent(clock.instant(), state, attempt, OptionalInt.empty(), Optional.of(message));
        reserve.write(() -> ledger.notRun(entry, event));
        return recorded(withHistory(status.state(state).message(sentences(message, next.strip())), entry));
    }

    /** {@code first}, then {@code then} as the next sentence (a full stop between them when {@code first} has none). */
    static String sentences(String first, String then) {
        if (then.isEmpty()) {
            return first;
        }
        String f = first.stripTrailing();
        return f + (f.isEmpty() || ".!?".indexOf(f.charAt(f.length() - 1)) >= 0 ? " " : ". ") + then;
    }

    private TaskStatus withHistory(TaskStatus.Builder status, Ledger.Task entry) {
        ledger.lookup(entry).ifPresent(e -> status.history(e.history()).firstFailure(e.firstFailure()));
        return status.build();
    }

    private TaskStatus recorded(TaskStatus status) throws IOException {
        record.task(status);
        return status;
    }

    private static Optional<String> source(TaskSpec task) {
        return task.source() instanceof TaskSource.Remote r ? Optional.of(Redact.url(r.url())) : Optional.empty();
    }
}
