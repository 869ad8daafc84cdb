package dev.whatami.userdata;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A script's file name, as user-data names it and as the agent stores it: {@code [A-Za-z0-9][A-Za-z0-9._-]*}, at
 * most {@value #MAX_BYTES} bytes in UTF-8, never a path, never a hidden name. The one place this rule is written:
 * the user-data parser, the server's upload handler and the fetcher all ask it.
 *
 * <pre>{@code
 * ScriptName.problem("../etc/passwd");   // Optional["\"../etc/passwd\" is a path; ..."]
 * ScriptName name = ScriptName.of("collector.pl");
 * }</pre>
 *
 * <p>Immutable and thread-safe; equal when the names are equal (case-sensitive, as file names are).
 */
public final class ScriptName implements Comparable<ScriptName> {
    /** Longest script name, in UTF-8 bytes. */
    public static final int MAX_BYTES = 255;
    private static final Pattern RULE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

    private final String value;

    private ScriptName(String value) {
        this.value = value;
    }

    /**
     * The name, checked.
     *
     * @throws IllegalArgumentException with {@link #problem(String)}'s message when {@code name} is not a script name
     */
    public static ScriptName of(String name) {
        Optional<String> problem = problem(name);
        if (problem.isPresent()) {
            throw new IllegalArgumentException(problem.get());
        }
        return new ScriptName(name);
    }

    /** Whether {@code name} is a script name. */
    public static boolean isValid(String name) {
        return problem(name).isEmpty();
    }

    /**
     * What is wrong with {@code name} as a script name, in a sentence that says what to write instead (it quotes the
     * name, which is never a secret); empty when it is a valid name.
     */
    public static Optional<String> problem(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) {
            return Optional.of("the script name is empty; give the script's file name, e.g. collector.pl.");
        }
        if (name.contains("/") || name.contains("\\")) {
            return Optional.of("\"" + name + "\" is a path; a script name is never a path. Put the script in the "
                    + "server's scriptserver directory and give its file name, or give its full URL.");
        }
        if (name.startsWith(".")) {
            return Optional.of("script name \"" + name + "\" starts with \".\"; names of hidden files and \"..\" are "
                    + "refused. Rename the script, e.g. collector.pl.");
        }
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_BYTES) {
            return Optional.of("script name is " + bytes + " bytes long; the limit is " + MAX_BYTES + " bytes. "
                    + "Use a shorter file name.");
        }
        if (!RULE.matcher(name).matches()) {
            return Optional.of("script name \"" + name + "\" may hold only letters, digits, '.', '_' and '-', "
                    + "starting with a letter or digit; rename the script, e.g. collector.pl.");
        }
        return Optional.empty();
    }

    /** The name as a string, e.g. {@code collector.pl}. */
    public String value() {
        return value;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScriptName other && value.equals(other.value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }

    @Override
    public int compareTo(ScriptName other) {
        return value.compareTo(other.value);
    }

    /** The same as {@link #value()}. */
    @Override
    public String toString() {
        return value;
    }
}
