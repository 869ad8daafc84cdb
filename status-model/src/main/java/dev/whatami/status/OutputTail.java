package dev.whatami.status;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The last lines a task wrote in its run, bounded ({@link #MAX_LINES} lines of at most {@link #MAX_LINE} characters
 * per stream), so a person can see why it failed without logging in. The agent redacts {@code env.*} values and tokens
 * from them before they leave the instance.
 *
 * @param stdout the last lines of standard output
 * @param stderr the last lines of standard error
 */
public record OutputTail(List<String> stdout, List<String> stderr) {
    /** Most lines kept per stream. */
    public static final int MAX_LINES = 20;
    /** Longest line kept, in characters; longer ones are cut with an ellipsis. */
    public static final int MAX_LINE = 300;

    public OutputTail {
        stdout = bounded(stdout, "stdout");
        stderr = bounded(stderr, "stderr");
    }

    /** No output. */
    public static OutputTail empty() {
        return new OutputTail(List.of(), List.of());
    }

    /** Whether there is no line at all. */
    public boolean isEmpty() {
        return stdout.isEmpty() && stderr.isEmpty();
    }

    /** The last {@link #MAX_LINES} of {@code lines}, each cut to {@link #MAX_LINE} characters. */
    public static List<String> last(List<String> lines) {
        List<String> out = new ArrayList<>();
        for (String l : lines.subList(Math.max(0, lines.size() - MAX_LINES), lines.size())) {
            out.add(StatusLimits.clip(l, MAX_LINE));
        }
        return out;
    }

    private static List<String> bounded(List<String> lines, String name) {
        Objects.requireNonNull(lines, name);
        if (lines.size() > MAX_LINES) {
            throw new IllegalArgumentException(name + " holds " + lines.size() + " lines; at most " + MAX_LINES);
        }
        for (String l : lines) {
            if (l.length() > MAX_LINE + 1) {
                throw new IllegalArgumentException(name + " holds a line of " + l.length() + " characters; at most "
                        + MAX_LINE);
            }
        }
        return List.copyOf(lines);
    }
}
