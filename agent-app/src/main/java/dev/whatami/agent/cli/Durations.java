package dev.whatami.agent.cli;

import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as every command accepts them: a whole number and a unit, {@code ms}, {@code s}, {@code m} or {@code h}. */
final class Durations {
    private static final Pattern DURATION = Pattern.compile("([0-9]{1,6})(ms|s|m|h)");

    private Durations() {
    }

    /** {@code 90s} as 90 seconds; empty when {@code text} is not a duration. */
    static Optional<Duration> parse(String text) {
        Matcher m = DURATION.matcher(text.strip());
        if (!m.matches()) {
            return Optional.empty();
        }
        long n = Long.parseLong(m.group(1));
        return Optional.of(switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        });
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
