package dev.whatami.agent.cli;

import java.time.Duration;
import java.util.Optional;

/** Durations as every command accepts them: a whole number and a unit, {@code ms}, {@code s}, {@code m} or {@code h}. */
final class Durations {
    private Durations() {
    }

    /**
     * {@code 90s} as 90 seconds; empty when {@code text} is not a duration (1 to 6 digits, then the unit). Read by
     * hand rather than with a regular expression: it is on the boot path, where compiling one costs ~3 ms.
     */
    static Optional<Duration> parse(String text) {
        String t = text.strip();
        int digits = 0;
        while (digits < t.length() && t.charAt(digits) >= '0' && t.charAt(digits) <= '9') {
            digits++;
        }
        if (digits == 0 || digits > 6) {
            return Optional.empty();
        }
        long n = Long.parseLong(t.substring(0, digits));
        switch (t.substring(digits)) {
            case "ms":
                return Optional.of(Duration.ofMillis(n));
            case "s":
                return Optional.of(Duration.ofSeconds(n));
            case "m":
                return Optional.of(Duration.ofMinutes(n));
            case "h":
                return Optional.of(Duration.ofHours(n));
            default:
                return Optional.empty();
        }
    }

    /** How a duration reads in messages: {@code 90s}, {@code 2m}, {@code 1500ms}. */
    static String text(Duration d) {
        long ms = d.toMillis();
        if (ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
    }
}
