package dev.whatami.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The fast path gives what {@code Instant.parse} gives, and everything else is {@code Instant.parse}'s own. */
class InstantsTest {
    @Test
    void whatToStringWrites_readsBackAsInstantParseReadsIt() {
        SplittableRandom random = new SplittableRandom(42);
        long max = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();
        for (int i = 0; i < 20_000; i++) {
            // whole seconds, milli-, micro- and nanosecond fractions, as toString writes each
            int nanos = switch (i % 4) {
                case 0 -> 0;
                case 1 -> random.nextInt(1000) * 1_000_000;
                case 2 -> random.nextInt(1_000_000) * 1000;
                default -> random.nextInt(1_000_000_000);
            };
            Instant t = Instant.ofEpochSecond(random.nextLong(max), nanos);
            assertThat(Instants.parse(t.toString())).isEqualTo(t).isEqualTo(Instant.parse(t.toString()));
        }
    }

    @Test
    void edgesOfTheCanonicalForm() {
        for (String s : List.of("1970-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "2024-02-29T23:59:59.999999999Z",
                "2026-12-02T10:15:30.1Z", "2026-12-02T10:15:30.12345Z", "2000-02-29T12:00:00Z")) {
            assertThat(Instants.parse(s)).isEqualTo(Instant.parse(s));
        }
    }

    @Test
    void otherForms_areInstantParses() {
        // lower case, an offset, a leap second, a sign, 24:00, a point with no fraction: not the canonical form,
        // and Instant.parse's to read
        for (String s : List.of("2026-12-02t10:15:30z", "2026-12-02T10:15:30+01:00", "2016-12-31T23:59:60Z",
                "+12026-12-02T10:15:30Z", "2026-12-02T24:00:00Z", "2026-12-02T10:15:30.Z")) {
            assertThat(Instants.parse(s)).isEqualTo(Instant.parse(s));
        }
    }

    @Test
    void notATime_failsAsInstantParseFails() {
        for (String s : List.of("2026-02-30T10:15:30Z", "2023-02-29T00:00:00Z", "2026-13-02T10:15:30Z",
                "2026-12-02T10:60:30Z",
                "2026-12-02T10:15:30.1234567890Z", "2026-12-02T10:15:3xZ", "2026-12-02 10:15:30Z", "yesterday",
                "2026-12-02T10:15:30")) {
            assertThatThrownBy(() -> Instants.parse(s)).as(s).isInstanceOf(DateTimeParseException.class)
                    .hasMessage(message(s));
        }
    }

    private static String message(String s) {
        try {
            Instant.parse(s);
        } catch (DateTimeParseException e) {
            return e.getMessage();
        }
        throw new AssertionError("Instant.parse accepted " + s);
    }
}
