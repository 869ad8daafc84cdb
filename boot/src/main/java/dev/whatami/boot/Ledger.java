package dev.whatami.boot;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.whatami.status.AtomicFiles;
import dev.whatami.status.StatusCodec;
import dev.whatami.status.StatusFormatException;
import dev.whatami.status.TaskEvent;
import dev.whatami.status.TaskState;
import dev.whatami.userdata.Frequency;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Run-once bookkeeping: which task (by identity) ran on which instance and boot, how often, how it ended, and what
 * happened to it before. Only a script that ran and failed spends an attempt of its {@code retries=}: one that could
 * not be fetched is tried again on the next run, one that was refused on the next boot, and neither counts. A task is
 * marked done only after it succeeded. A task found {@code running} when the ledger is opened was cut short (crash,
 * power loss) while its script ran and counts as a failed attempt. Files are rewritten atomically and never read
 * through a link; one agent at a time (the agent holds a lock). Not thread-safe.
 *
 * <p>Where: {@code <state>/instances/<id>/ledger.json} for {@code per-instance}, {@code per-boot} and
 * {@code always}; {@code <state>/once-ledger.json} for {@code once}, which is per image, not per instance.
 */
public final class Ledger {
    private static final JSON JSON_WRITER = JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT);
    private static final StatusCodec CODEC = StatusCodec.create();
    private static final int MAX_BYTES = 16 << 20;
    private static final int HISTORY = 20;

    /** What a task is, for the ledger: its name, a key that changes when its source or digest changes, how often. */
    public record Task(String name, String key, Frequency frequency, int retries) {
        public Task {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(frequency, "frequency");
        }
    }

    /** What to do with a task now. */
    public enum Action {
        /** Run it, as attempt {@link Decision#attempt()}. */
        RUN,
        /** It is done; skip it (success). */
        SKIP,
        /** It may not run now: report it in state {@link Decision#state()} without running it. */
        GIVE_UP
    }

    /**
     * @param action  what to do
     * @param attempt the attempt number if it runs (1 for the first); else the last attempt spent
     * @param state   how to report it when it does not run: {@link TaskState#SKIPPED}, {@link TaskState#FAILED} or
     *                {@link TaskState#REFUSED}; {@link TaskState#RUNNING} when it runs
     * @param reason  why, for logs and status
     */
    public record Decision(Action action, int attempt, TaskState state, String reason) {
        public Decision {
            Objects.requireNonNull(action, "action");
            Objects.requireNonNull(state, "state");
            Objects.requireNonNull(reason, "reason");
        }
    }

    /**
     * What the ledger knows of one task.
     *
     * @param name         its name
     * @param key          its identity
     * @param frequency    how often it runs
     * @param state        how it last stood: succeeded, failed, interrupted (as failed), running, not-fetched, refused
     * @param attempts     attempts spent (runs of its script)
     * @param boot         the boot it last changed in
     * @param updated      when it last changed
     * @param firstFailure the first time it did not succeed
     * @param history      what happened to it, oldest first, at most 20
     */
    public record Entry(String name, String key, Frequency frequency, String state, int attempts, String boot,
                        Optional<Instant> updated, Optional<TaskEvent> firstFailure, List<TaskEvent> history) {
        public Entry {
            history = List.copyOf(history);
        }
    }

    private final Path instanceFile;
    private final Path onceFile;
    private final String bootId;
    private final Clock clock;
    private final Map<String, Map<String, Object>> instance;
    private final Map<String, Map<String, Object>> once;
    private final List<Object> instanceResets;
    private final List<Object> onceResets;

    private Ledger(Path instanceFile, Path onceFile, String bootId, Clock clock) throws IOException {
        this.instanceFile = instanceFile;
        this.onceFile = onceFile;
        this.bootId = bootId;
        this.clock = clock;
        this.instanceResets = new ArrayList<>();
        this.onceResets = new ArrayList<>();
        this.instance = load(instanceFile, instanceResets, clock);
        this.once = load(onceFile, onceResets, clock);
    }

    /**
     * Opens (or creates) the ledger of one instance.
     *
     * @param instanceDir the instance's own directory, e.g. {@code <state>/instances/<id>}
     * @param stateDir    the state directory, for the per-image {@code once} ledger
     * @param bootId      this boot's id (Linux: {@code /proc/sys/kernel/random/boot_id})
     * @throws IOException when a ledger file exists but cannot be read; the message says how to start over
     */
    public static Ledger open(Path instanceDir, Path stateDir, String bootId, Clock clock) throws IOException {
        return new Ledger(instanceDir.resolve("ledger.json"), stateDir.resolve("once-ledger.json"), bootId, clock);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> load(Path file, List<Object> resets, Clock clock)
            throws IOException {
        Map<String, Map<String, Object>> entries = new LinkedHashMap<>();
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return entries;
        }
        Map<String, Object> doc;
        try {
            doc = JSON.std.mapFrom(AtomicFiles.read(file, MAX_BYTES));
        } catch (IOException | RuntimeException e) {
            throw new IOException("the ledger " + file + " is unreadable (" + firstLine(e) + "); move it aside to "
                    + "start over (every task will run again)", e);
        }
        if (doc != null && doc.get("resets") instanceof List<?> r) {
            resets.addAll(r);
        }
        Object tasks = doc == null ? null : doc.get("tasks");
        if (tasks instanceof Map<?, ?> m) {
            m.forEach((k, v) -> {
                if (v instanceof Map<?, ?> entry) {
                    Map<String, Object> copy = new LinkedHashMap<>((Map<String, Object>) entry);
                    if ("running".equals(copy.get("state"))) {
                        // the agent died while the script ran: a failed attempt
                        copy.put("state", "interrupted");
                        appendEvent(copy, new TaskEvent(clock.instant(), TaskState.FAILED, attempts(copy),
                                OptionalInt.empty(), Optional.of("interrupted: the agent or the machine stopped while "
                                + "the script ran")));
                    }
                    entries.put(String.valueOf(k), copy);
                }
            });
        }
        return entries;
    }

    private static String firstLine(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        // jackson quotes the offending text; a ledger never holds secrets, but keep the message to its first line
        return m.lines().findFirst().orElse(m);
    }

    private Map<String, Map<String, Object>> book(Task task) {
        return task.frequency() == Frequency.ONCE ? once : instance;
    }

    /** Whether the last attempt was cut short: the agent died (or the machine lost power) while its script ran. */
    public boolean wasInterrupted(Task task) {
        Map<String, Object> e = book(task).get(task.key());
        return e != null && "interrupted".equals(e.get("state"));
    }

    /** Whether this run should run the task, skip it, or report it without running it. */
    public Decision decide(Task task) {
        Map<String, Object> e = book(task).get(task.key());
        if (e == null) {
            return new Decision(Action.RUN, 1, TaskState.RUNNING, "first run");
        }
        String state = String.valueOf(e.get("state"));
        int spent = attempts(e);
        boolean thisBoot = bootId.equals(e.get("boot"));
        if (task.frequency() == Frequency.ALWAYS) {
            return new Decision(Action.RUN, 1, TaskState.RUNNING, "frequency=always");
        }
        if (state.equals("not-fetched")) {
            return new Decision(Action.RUN, spent + 1, TaskState.RUNNING, "its script could not be fetched before; "
                    + "trying again (no attempt was spent)");
        }
        if (task.frequency() == Frequency.PER_BOOT && !thisBoot) {
            return new Decision(Action.RUN, 1, TaskState.RUNNING, "new boot");
        }
        if (state.equals("succeeded")) {
            return new Decision(Action.SKIP, spent, TaskState.SKIPPED, (task.frequency() == Frequency.PER_BOOT
                    ? "already succeeded on this boot" : "already succeeded at " + e.get("updated"))
                    + (task.frequency() == Frequency.ONCE ? " (frequency=once: once per image)" : ""));
        }
        if (state.equals("refused")) {
            return thisBoot ? new Decision(Action.GIVE_UP, spent, TaskState.REFUSED, "refused on this boot; it is "
                    + "tried again on the next boot (or after whatami-agent reset " + task.name() + ")")
                    : new Decision(Action.RUN, spent + 1, TaskState.RUNNING, "refused on an earlier boot; trying again");
        }
        // failed or interrupted: the script ran and did not succeed
        if (task.frequency() == Frequency.PER_BOOT) {
            return new Decision(Action.GIVE_UP, spent, TaskState.FAILED, "already " + state + " on this boot; it runs "
                    + "again on the next boot");
        }
        if (thisBoot) {
            return new Decision(Action.GIVE_UP, spent, TaskState.FAILED, state + " on this boot (attempt " + spent
                    + "); " + (spent <= task.retries() ? "retried on the next boot" : "no retries left (retries="
                    + task.retries() + "); whatami-agent reset " + task.name() + " runs it again"));
        }
        if (spent <= task.retries()) {
            return new Decision(Action.RUN, spent + 1, TaskState.RUNNING, "retry " + spent + " of " + task.retries()
                    + " after " + state + " attempt " + spent);
        }
        return new Decision(Action.GIVE_UP, spent, TaskState.FAILED, state + " after " + spent
                + (spent == 1 ? " attempt" : " attempts") + "; no retries left (retries=" + task.retries() + "). "
                + "Run whatami-agent reset " + task.name() + " to run it again, or change its user-data line.");
    }

    /**
     * Records that attempt {@code attempt} is about to run the script: found later as {@code running}, it was
     * interrupted. Call it only once the script is fetched and verified.
     */
    public void started(Task task, int attempt) throws IOException {
        Map<String, Object> e = entryFor(task);
        e.put("state", "running");
        e.put("attempts", attempt);
        touch(e);
        save(task);
    }

    /**
     * Records how an attempt that ran ended ({@link TaskState#SUCCEEDED}, {@link TaskState#FAILED} or
     * {@link TaskState#TIMED_OUT}); the attempt is spent.
     */
    public void ran(Task task, int attempt, TaskEvent outcome) throws IOException {
        if (!outcome.outcome().ran()) {
            throw new IllegalArgumentException("ran(...) takes an outcome of a script that ran, got "
                    + outcome.outcome().token() + "; use notRun(...)");
        }
        Map<String, Object> e = entryFor(task);
        e.put("state", outcome.outcome() == TaskState.SUCCEEDED ? "succeeded" : "failed");
        e.put("attempts", attempt);
        touch(e);
        appendEvent(e, outcome);
        save(task);
    }

    /**
     * Records a run in which the script did not run ({@link TaskState#NOT_FETCHED} or {@link TaskState#REFUSED}): no
     * attempt is spent; a task not fetched is tried again on the next run, a refused one on the next boot.
     */
    public void notRun(Task task, TaskEvent outcome) throws IOException {
        if (outcome.outcome() != TaskState.NOT_FETCHED && outcome.outcome() != TaskState.REFUSED) {
            throw new IllegalArgumentException("notRun(...) takes not-fetched or refused, got "
                    + outcome.outcome().token());
        }
        Map<String, Object> e = entryFor(task);
        e.put("state", outcome.outcome().token());
        e.putIfAbsent("attempts", 0);
        touch(e);
        appendEvent(e, outcome);
        save(task);
    }

    /** What the ledger knows of {@code task}, if anything. */
    public Optional<Entry> lookup(Task task) {
        return Optional.ofNullable(book(task).get(task.key())).map(e -> view(task.key(), e));
    }

    /** Every task the ledger knows, per-instance ones first, then once-per-image ones. */
    public List<Entry> entries() {
        List<Entry> all = new ArrayList<>();
        instance.forEach((k, e) -> all.add(view(k, e)));
        once.forEach((k, e) -> all.add(view(k, e)));
        return all;
    }

    /**
     * Forgets the tasks named in {@code names} (every task when {@code names} is empty), so they run again as if new,
     * like {@code cloud-init clean}; the reset itself is recorded in the ledger.
     *
     * @return the entries forgotten
     */
    public List<Entry> forget(Collection<String> names) throws IOException {
        List<Entry> gone = new ArrayList<>();
        for (boolean perImage : new boolean[] {false, true}) {
            Map<String, Map<String, Object>> book = perImage ? once : instance;
            List<String> keys = new ArrayList<>();
            book.forEach((k, e) -> {
                if (names.isEmpty() || names.contains(String.valueOf(e.get("name")))) {
                    keys.add(k);
                    gone.add(view(k, e));
                }
            });
            if (!keys.isEmpty()) {
                keys.forEach(book::remove);
                Map<String, Object> reset = new LinkedHashMap<>();
                reset.put("at", clock.instant().toString());
                reset.put("tasks", gone.stream().filter(g -> keys.contains(g.key())).map(Entry::name).toList());
                (perImage ? onceResets : instanceResets).add(reset);
                write(perImage);
            }
        }
        return gone;
    }

    private Map<String, Object> entryFor(Task task) {
        Map<String, Object> e = book(task).computeIfAbsent(task.key(), k -> new LinkedHashMap<>());
        e.put("name", task.name());
        e.put("frequency", task.frequency().token());
        return e;
    }

    private void touch(Map<String, Object> e) {
        e.put("boot", bootId);
        e.put("updated", clock.instant().toString());
    }

    @SuppressWarnings("unchecked")
    private static void appendEvent(Map<String, Object> e, TaskEvent event) {
        List<Object> history = e.get("history") instanceof List<?> h ? new ArrayList<>((List<Object>) h)
                : new ArrayList<>();
        history.add(CODEC.toMap(event));
        if (history.size() > HISTORY) {
            history = new ArrayList<>(history.subList(history.size() - HISTORY, history.size()));
        }
        e.put("history", history);
        if (event.outcome() != TaskState.SUCCEEDED && !e.containsKey("firstFailure")) {
            e.put("firstFailure", CODEC.toMap(event));
        }
    }

    private static int attempts(Map<String, Object> e) {
        return e.get("attempts") instanceof Number n ? n.intValue() : 1;
    }

    @SuppressWarnings("unchecked")
    private static Entry view(String key, Map<String, Object> e) {
        List<TaskEvent> history = new ArrayList<>();
        if (e.get("history") instanceof List<?> h) {
            for (Object o : h) {
                if (o instanceof Map<?, ?> m) {
                    try {
                        history.add(CODEC.event((Map<String, Object>) m));
                    } catch (StatusFormatException ignored) {
                        // an event this version cannot read: the rest of the history still counts
                    }
                }
            }
        }
        Optional<TaskEvent> first = Optional.empty();
        if (e.get("firstFailure") instanceof Map<?, ?> f) {
            try {
                first = Optional.of(CODEC.event((Map<String, Object>) f));
            } catch (StatusFormatException ignored) {
                // unreadable: treated as unknown
            }
        }
        Optional<Instant> updated;
        try {
            updated = Optional.ofNullable(e.get("updated")).map(String::valueOf).map(Instant::parse);
        } catch (java.time.format.DateTimeParseException ex) {
            updated = Optional.empty();
        }
        return new Entry(String.valueOf(e.get("name")), key, Frequency.fromToken(String.valueOf(e.get("frequency")))
                .orElse(Frequency.PER_INSTANCE), String.valueOf(e.get("state")), attempts(e),
                String.valueOf(e.getOrDefault("boot", "")), updated, first, history);
    }

    private void save(Task task) throws IOException {
        write(task.frequency() == Frequency.ONCE);
    }

    private void write(boolean perImage) throws IOException {
        Map<String, Map<String, Object>> book = perImage ? once : instance;
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("version", 2);
        doc.put("tasks", book);
        List<Object> resets = perImage ? onceResets : instanceResets;
        if (!resets.isEmpty()) {
            doc.put("resets", resets.subList(Math.max(0, resets.size() - HISTORY), resets.size()));
        }
        AtomicFiles.write(perImage ? onceFile : instanceFile,
                (JSON_WRITER.asString(doc) + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
