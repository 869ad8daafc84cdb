package dev.whatami.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.testsupport.FakeTime;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class TimestampedLinesTest {
    @Test
    void formatsUtcWithDateAndZeroPaddedFields() {
        assertThat(TimestampedLines.format(0)).isEqualTo("1970-01-01T00:00:00.000Z ");
        long t = Instant.parse("2026-03-04T05:06:07.089Z").toEpochMilli();
        assertThat(TimestampedLines.format(t)).isEqualTo("2026-03-04T05:06:07.089Z ");
        assertThat(TimestampedLines.format(Instant.parse("2026-12-31T23:59:59.999Z").toEpochMilli()))
                .isEqualTo("2026-12-31T23:59:59.999Z ");
    }

    @Test
    void agreesWithJavaTimeForManyInstants() {
        for (long t = 0; t < 4_000_000_000_000L; t += 97_654_321_987L) {
            String stamp = TimestampedLines.format(t);
            assertThat(stamp).hasSize(25);
            assertThat(Instant.parse(stamp.trim()).toEpochMilli()).as(stamp).isEqualTo(t);
        }
    }

    @Test
    void stampsEachLineOnceWhateverTheWriteBoundaries() throws IOException {
        FakeTime clock = new FakeTime(Instant.EPOCH);
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        try (TimestampedLines out = new TimestampedLines(sink, clock)) {
            out.write("one\ntw".getBytes(StandardCharsets.UTF_8));
            clock.advance(Duration.ofSeconds(1));
            out.write("o\nthree\n\n".getBytes(StandardCharsets.UTF_8));
            clock.advance(Duration.ofSeconds(1));
            out.write('f');
            out.write('\n');
            out.write("xx-ü\n".getBytes(StandardCharsets.UTF_8), 3, 3); // "ü\n" from the middle of an array
        }
        assertThat(sink.toString(StandardCharsets.UTF_8)).isEqualTo(
                "1970-01-01T00:00:00.000Z one\n"
                        + "1970-01-01T00:00:00.000Z two\n" // stamped when the line began, not when it ended
                        + "1970-01-01T00:00:01.000Z three\n"
                        + "1970-01-01T00:00:01.000Z \n"
                        + "1970-01-01T00:00:02.000Z f\n"
                        + "1970-01-01T00:00:02.000Z ü\n");
    }
}
