package dev.whatami.run.internal;

import dev.whatami.run.RunRequest;
import dev.whatami.run.TaskResult;
import dev.whatami.run.TaskRunException;
import dev.whatami.run.TaskRunner;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.commons.exec.CommandLine;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.ExecuteException;
import org.apache.commons.exec.LogOutputStream;
import org.apache.commons.exec.PumpStreamHandler;
import org.apache.commons.exec.environment.EnvironmentUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The runner behind {@link TaskRunner#builder(Path)}: Commons Exec underneath. */
public final class DefaultTaskRunner implements TaskRunner {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultTaskRunner.class);

    private final Path logDir;
    private final Optional<Map<String, String>> baseEnvironment;
    private final Optional<Consumer<String>> console;
    private final long maxLogBytes;
    private final Clock clock;

    public DefaultTaskRunner(Path logDir, Optional<Map<String, String>> baseEnvironment,
                             Optional<Consumer<String>> console, long maxLogBytes, Clock clock) {
        this.logDir = logDir;
        this.baseEnvironment = baseEnvironment;
        // both pump threads call it: one call at a time, as TaskRunner.Builder#console promises
        this.console = console.map(c -> {
            Object lock = new Object();
            return line -> {
                synchronized (lock) {
                    c.accept(line);
                }
            };
        });
        this.maxLogBytes = maxLogBytes;
        this.clock = clock;
    }

    @Override
    public TaskResult run(RunRequest request) {
        List<String> argv = new ArrayList<>(Interpreters.prefix(request.script(), request.interpreter()));
        argv.add(request.script().toAbsolutePath().toString());
        argv.addAll(request.args());
        CommandLine command = new CommandLine(argv.get(0));
        argv.subList(1, argv.size()).forEach(a -> command.addArgument(a, false)); // never re-quoted or split

        Map<String, String> env = new HashMap<>(baseEnvironment.orElseGet(DefaultTaskRunner::processEnvironment));
        env.putAll(request.environment());

        Path out = logDir.resolve(request.task() + ".out");
        Path err = logDir.resolve(request.task() + ".err");
        Instant start = clock.instant();
        String header = "=== whatami " + start + " task=" + request.task() + " attempt=" + request.attempt()
                + (request.sha256().isEmpty() ? "" : " sha256=" + request.sha256()) + " ===\n";
        TreeKillingWatchdog watchdog = request.timeout().map(TreeKillingWatchdog::new).orElse(null);
        int exit;
        TailLines outTail = new TailLines();
        TailLines errTail = new TailLines();
        OutputStream stdoutLog;
        OutputStream stderrLog;
        try {
            stdoutLog = logStream(out, header, request.task(), outTail);
        } catch (IOException e) {
            throw new TaskRunException("cannot open the log " + out + ": " + e.getMessage(), e);
        }
        try {
            stderrLog = logStream(err, header, request.task(), errTail);
        } catch (IOException e) {
            closeQuietly(stdoutLog);
            throw new TaskRunException("cannot open the log " + err + ": " + e.getMessage(), e);
        }
        try (OutputStream stdout = stdoutLog; OutputStream stderr = stderrLog) {
            DefaultExecutor executor = DefaultExecutor.builder().setWorkingDirectory(request.workingDir().toFile())
                    .get();
            executor.setStreamHandler(new PumpStreamHandler(stdout, stderr, null)); // stdin closed
            executor.setExitValues(null); // a non-zero exit is a result, not an exception
            if (watchdog != null) {
                executor.setWatchdog(watchdog);
            }
            LOG.info("task {} starting: {}", request.task(), argv.subList(0, argv.size() - request.args().size()));
            exit = executor.execute(command, env);
        } catch (ExecuteException e) {
            exit = e.getExitValue();
        } catch (IOException e) {
            throw new TaskRunException("could not start " + request.task() + " with " + argv.get(0) + ": "
                    + e.getMessage() + ". Is " + argv.get(0) + " installed? Install it, or set as=<interpreter> on "
                    + "the task's user-data line.", e);
        }
        boolean timedOut = watchdog != null && watchdog.killedProcess();
        TaskResult result = new TaskResult(request.task(), argv, start, clock.instant(), exit, timedOut,
                request.attempt(), out, err, outTail.lines(), errTail.lines());
        if (timedOut) {
            LOG.warn("task {} timed out after {} and was killed with its children", request.task(),
                    request.timeout().orElseThrow());
        } else {
            LOG.info("task {} exited {} after {} ms", request.task(), exit, result.duration().toMillis());
        }
        return result;
    }

    private static void closeQuietly(OutputStream out) {
        try {
            out.close();
        } catch (IOException e) {
            // already failing
        }
    }

    private static Map<String, String> processEnvironment() {
        try {
            return EnvironmentUtils.getProcEnvironment();
        } catch (IOException e) {
            throw new TaskRunException("cannot read this process's environment: " + e.getMessage(), e);
        }
    }

    private OutputStream logStream(Path file, String header, String task, TailLines tail) throws IOException {
        Files.createDirectories(logDir);
        OutputStream raw = LogFiles.open(file, maxLogBytes);
        try {
            raw.write(header.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // a full log disk: the capped stream below drops (and counts) what cannot be written
        }
        OutputStream capped = new CappedOutputStream(raw, maxLogBytes);
        OutputStream logged = new Tee(capped, tail);
        if (console.isEmpty()) {
            return logged;
        }
        Consumer<String> sink = console.get();
        LogOutputStream lines = new LogOutputStream() {
            @Override
            protected void processLine(String line, int level) {
                sink.accept("[" + task + "] " + line);
            }
        };
        return new Tee(logged, lines);
    }
}
