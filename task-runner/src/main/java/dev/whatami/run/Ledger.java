package dev.whatami.run;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.whatami.status.AtomicFiles;
import dev.whatami.userdata.Frequency;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Run-once bookkeeping: which task (by identity) ran on which instance and boot, how often, and how it
 * ended. A task is marked done only after it succeeded; a failed one is retried on later boots while its
 * {@code retries=} allows. A task found {@code running} when the ledger is opened was cut short (crash, power
 * loss) and counts as failed. Files are rewritten atomically; one agent at a time (the agent holds a lock).
 *
 * <p>Where: {@code <state>/instances/<id>/ledger.json} for {@code per-instance}, {@code per-boot} and
 * {@code always}; {@code <state>/once-ledger.json} for {@code once}, which is per image, not per instance.
 */
public final class Ledger {
    private static final JSON JSON_WRITER = JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT);

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
        /** It failed before and may not run again now: report it as failed without running it. */
        GIVE_UP
    }

    /**
     * @param action  what to do
     * @param attempt the attempt number if it runs (1 for the first)
     * @param reason  why, for logs and status
     */
    public record Decision(Action action, int attempt, String reason) {
    }

    private final Path instanceFile;
    private final Path onceFile;
    private final String bootId;
    private final Clock clock;
    private final Map<String, Map<String, Object>> instance;
    private final Map<String, Map<String, Object>> once;

    private Ledger(Path instanceFile, Path onceFile, String bootId, Clock clock) throws IOException {
        this.instanceFile = instanceFile;
        this.onceFile = onceFile;
        this.bootId = bootId;
        this.clock = clock;
        this.instance = load(instanceFile);
        this.once = load(onceFile);
    }

    /**
     * Opens (or creates) the ledger of one instance.
     *
     * @param instanceDir the instance's own directory, e.g. {@code <state>/instances/<id>}
     * @param stateDir    the state directory, for the per-image {@code once} ledger
     * @param bootId      this boot's id (Linux: {@code /proc/sys/kernel/random/boot_id})
     */
    public static Ledger open(Path instanceDir, Path stateDir, String bootId, Clock clock) throws IOException {
        return new Ledger(instanceDir.resolve("ledger.json"), stateDir.resolve("once-ledger.json"), bootId, clock);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> load(Path file) throws IOException {
        Map<String, Map<String, Object>> entries = new LinkedHashMap<>();
        if (!Files.exists(file)) {
            return entries;
        }
        Map<String, Object> doc;
        try {
            doc = JSON.std.mapFrom(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new IOException("the ledger " + file + " is unreadable (" + e.getMessage() + "); move it aside to "
                    + "start over (every task will run again)", e);
        }
        Object tasks = doc.get("tasks");
        if (tasks instanceof Map<?, ?> m) {
            m.forEach((k, v) -> {
                if (v instanceof Map<?, ?> entry) {
                    Map<String, Object> copy = new LinkedHashMap<>((Map<String, Object>) entry);
                    if ("running".equals(copy.get("state"))) {
                        copy.put("state", "interrupted"); // the agent died while it ran: a failure
                    }
                    entries.put(String.valueOf(k), copy);
                }
            });
        }
        return entries;
    }

    private Map<String, Map<String, Object>> book(Task task) {
        return task.frequency() == Frequency.ONCE ? once : instance;
    }

    /** Tasks a previous run left {@code running}: the agent died (or the machine lost power) while they ran. */
    public boolean wasInterrupted(Task task) {
        Map<String, Object> e = book(task).get(task.key());
        return e != null && "interrupted".equals(e.get("state"));
    }

    public Decision decide(Task task) {
        Map<String, Object> e = book(task).get(task.key());
        if (task.frequency() == Frequency.ALWAYS || e == null) {
            return new Decision(Action.RUN, 1, e == null ? "first run" : "frequency=always");
        }
        String state = String.valueOf(e.get("state"));
        int attempts = ((Number) e.getOrDefault("attempts", 1)).intValue();
        boolean thisBoot = bootId.equals(e.get("boot"));
        boolean succeeded = state.equals("succeeded");
        if (task.frequency() == Frequency.PER_BOOT) {
            if (!thisBoot) {
                return new Decision(Action.RUN, 1, "new boot");
            }
            return succeeded ? new Decision(Action.SKIP, attempts, "already succeeded on this boot")
                    : new Decision(Action.GIVE_UP, attempts, "already " + state + " on this boot; it runs again "
                    + "on the next boot");
        }
        if (succeeded) {
            return new Decision(Action.SKIP, attempts, "already succeeded at " + e.get("updated")
                    + (task.frequency() == Frequency.ONCE ? " (frequency=once: once per image)" : ""));
        }
        if (thisBoot) {
            return new Decision(Action.GIVE_UP, attempts, state + " on this boot (attempt " + attempts + "); "
                    + (attempts <= task.retries() ? "retried on the next boot" : "no retries left (retries="
                    + task.retries() + ")"));
        }
        if (attempts <= task.retries()) {
            return new Decision(Action.RUN, attempts + 1, "retry " + attempts + " of " + task.retries() + " after "
                    + state + " attempt " + attempts);
        }
        return new Decision(Action.GIVE_UP, attempts, state + " after " + attempts + (attempts == 1 ? " attempt"
                : " attempts") + "; no retries left (retries=" + task.retries() + "). Change the task (its "
                + "user-data line) to run it again.");
    }

    /** Records that attempt {@code attempt} is starting: found later as {@code running}, it was interrupted. */
    public void started(Task task, int attempt) throws IOException {
        record(task, attempt, "running");
    }

    /** Records how the attempt ended. */
    public void finished(Task task, int attempt, boolean succeeded) throws IOException {
        record(task, attempt, succeeded ? "succeeded" : "failed");
    }

    private void record(Task task, int attempt, String state) throws IOException {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("name", task.name());
        e.put("frequency", task.frequency().token());
        e.put("state", state);
        e.put("attempts", attempt);
        e.put("boot", bootId);
        e.put("updated", clock.instant().toString());
        Map<String, Map<String, Object>> book = book(task);
        book.put(task.key(), e);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("version", 1);
        doc.put("tasks", book);
        AtomicFiles.write(book == once ? onceFile : instanceFile,
                (JSON_WRITER.asString(doc) + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
