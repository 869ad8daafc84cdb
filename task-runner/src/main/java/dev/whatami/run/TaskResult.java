package dev.whatami.run;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What happened when a script ran.
 *
 * @param task     the task's name
 * @param command  the argv that ran (interpreter, script, arguments)
 * @param start    when the process started
 * @param end      when it ended
 * @param exitCode its exit code; 128+n when killed by signal n (as a shell reports it)
 * @param timedOut whether it was killed for running past its timeout
 * @param attempt  which attempt this was
 * @param stdout   the file holding its standard output
 * @param stderr   the file holding its standard error
 * @param stdoutTail the last lines (at most 20, each at most 300 characters) of its standard output in this run
 * @param stderrTail the last lines of its standard error in this run
 */
public record TaskResult(String task, List<String> command, Instant start, Instant end, int exitCode,
                         boolean timedOut, int attempt, Path stdout, Path stderr, List<String> stdoutTail,
                         List<String> stderrTail) {
    public TaskResult {
        Objects.requireNonNull(task, "task");
        command = List.copyOf(command);
        Objects.requireNonNull(start, "start");
        Objects.requireNonNull(end, "end");
        Objects.requireNonNull(stdout, "stdout");
        Objects.requireNonNull(stderr, "stderr");
        stdoutTail = List.copyOf(stdoutTail);
        stderrTail = List.copyOf(stderrTail);
    }

    /** Exited 0 within its time. */
    public boolean succeeded() {
        return exitCode == 0 && !timedOut;
    }

    public Duration duration() {
        return Duration.between(start, end);
    }
}
