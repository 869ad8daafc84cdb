package dev.whatami.userdata;

import java.util.Objects;

/**
 * One thing wrong (or worth a warning) in user-data.
 *
 * @param line    1-based line number, or 0 when the problem is with the data as a whole
 * @param column  1-based column (in characters), or 0 when not tied to a column
 * @param text    the offending text, possibly empty
 * @param message what is wrong and what to change
 */
public record Problem(int line, int column, String text, String message) {
    public Problem {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(message, "message");
    }

    /** A problem with the user-data as a whole. */
    public static Problem whole(String message) {
        return new Problem(0, 0, "", message);
    }

    /** For example {@code line 1, column 13: "“" is a typographic quote; …}. */
    @Override
    public String toString() {
        if (line == 0) {
            return message;
        }
        return column == 0 ? "line " + line + ": " + message : "line " + line + ", column " + column + ": " + message;
    }
}
