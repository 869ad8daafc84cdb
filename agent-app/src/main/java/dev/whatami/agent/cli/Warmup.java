package dev.whatami.agent.cli;

import dev.whatami.status.StatusCodec;
import dev.whatami.status.TaskEvent;
import dev.whatami.status.TaskState;
import dev.whatami.status.TaskStatus;
import dev.whatami.userdata.TaskPlan;
import dev.whatami.userdata.UserDataParser;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A boot's one-time initialisation, done ahead on a second core: while the main thread builds the
 * metadata client and waits for the metadata service, a daemon thread initialises what the boot needs next and the
 * JVM initialises only once — its lambda machinery, the JSON codec of the ledger and {@code status.json} with
 * java.time's parser, the JDK's security providers and SHA-256 (the task identity, the fetched script's hash), the
 * user-data parser and what starts a process (with, on JDK 21 and later, the system logger {@code ProcessBuilder}
 * asks for). What the main thread needs at once (HttpClient's classes) is left to
 * it: both threads would only wait for each other. On one core it only moves
 * that work earlier. It touches no file, no network and no state: every input is a constant here, every result
 * is dropped, and a failure is ignored (the boot then initialises the same classes itself, on its own thread).
 */
final class Warmup {
    /** A line of the grammar's every-day form, parsed for its classes and its rules' patterns. */
    static final String SAMPLE_USER_DATA = "warmup.sh 127.0.0.1:8080 sha256=" + "0".repeat(64)
            + " frequency=always timeout=60s env.ROLE=warmup\n";

    private Warmup() {
    }

    /**
     * Starts {@link #run} on a daemon thread; the process never waits for it. A thread subclass, not a lambda: the
     * JVM's first lambda initialises its whole lambda machinery (~10 ms), which the warm-up thread then does instead.
     */
    static void start() {
        Thread t = new Thread("whatami-warmup") {
            @Override
            public void run() {
                try {
                    Warmup.run();
                } catch (RuntimeException | LinkageError e) {
                    // nothing was warmed that the boot will not initialise itself
                }
            }
        };
        t.setDaemon(true);
        t.start();
    }

    /**
     * Initialises what a boot needs after its first metadata request.
     *
     * @return the sample plan (for tests: the sample still parses as one task)
     */
    static TaskPlan run() {
        java.util.function.Supplier<String> first = () -> SAMPLE_USER_DATA; // the lambda machinery
        first.get();
        // the JSON codec, both ways, java.time's parser with it: the run record writes status.json before the first
        // metadata request, the ledger is read after it
        Instant at = Instant.parse("2026-01-01T00:00:00Z");
        StatusCodec codec = StatusCodec.create();
        codec.readTask(codec.write(TaskStatus.builder("warmup.sh", TaskState.FAILED).identity("0".repeat(64))
                .attempt(1).history(List.of(new TaskEvent(at, TaskState.FAILED, 1, java.util.OptionalInt.of(1),
                        Optional.of("warm-up")))).build()));
        // what comes after the metadata service answered: SHA-256, the parser, starting a process
        try {
            MessageDigest.getInstance("SHA-256").digest(SAMPLE_USER_DATA.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        TaskPlan plan = UserDataParser.create().parse(SAMPLE_USER_DATA.getBytes(StandardCharsets.UTF_8));
        for (String c : LATER_CLASSES) {
            try {
                Class.forName(c, true, Warmup.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
        }
        // the fetcher's validator cache reads its record through a StringReader (on JDK 25 an anonymous Reader.of
        // class), a path the training boot does not take: made here, the class is in the cache
        new java.io.StringReader(SAMPLE_USER_DATA).close();
        if (Runtime.version().feature() >= 21) {
            // ProcessBuilder.start asks for its System.Logger (JDK 21 and later), and the first System.getLogger of
            // a process looks for a LoggerFinder on the class path (~2.5 ms): asked here first, as ProcessBuilder asks
            System.getLogger("java.lang.ProcessBuilder").isLoggable(System.Logger.Level.DEBUG);
        }
        return plan;
    }

    /** Initialised ahead: what the task runner starts a script with. */
    private static final List<String> LATER_CLASSES = List.of(
            "org.apache.commons.exec.DefaultExecutor",
            "org.apache.commons.exec.PumpStreamHandler",
            "org.apache.commons.exec.ExecuteWatchdog",
            "java.lang.ProcessImpl",
            // what ProcessImpl waits for the exit with while the script still runs: loaded here, it is in the class
            // cache whether or not the training run's script had already exited when ProcessImpl looked
            "java.util.concurrent.CompletableFuture$UniHandle");
}
