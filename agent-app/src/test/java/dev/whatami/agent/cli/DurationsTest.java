package dev.whatami.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The duration every flag and config key takes: 1 to 6 digits and ms, s, m or h — nothing else. */
class DurationsTest {
    @Test
    void aWholeNumberAndAUnit_isADuration() {
        assertThat(Durations.parse("1500ms")).contains(Duration.ofMillis(1500));
        assertThat(Durations.parse("90s")).contains(Duration.ofSeconds(90));
        assertThat(Durations.parse(" 2m\n")).contains(Duration.ofMinutes(2));
        assertThat(Durations.parse("1h")).contains(Duration.ofHours(1));
        assertThat(Durations.parse("0s")).contains(Duration.ZERO);
        assertThat(Durations.parse("999999s")).contains(Duration.ofSeconds(999_999));
        assertThat(Durations.parse("007s")).contains(Duration.ofSeconds(7));
    }

    @Test
    void anythingElse_isNot() {
        for (String bad : new String[] {"", "s", "90", "1234567s", "-1s", "+1s", "1.5s", "90S", "90 s", "90sec",
            "1d", "ms", "٣s", "90s5", "0x10s"}) {
            assertThat(Durations.parse(bad)).as(bad).isEmpty();
        }
    }

    @Test
    void text_isTheShortestUnitThatIsWhole_andReadsBack() {
        for (Duration d : new Duration[] {Duration.ofMillis(1500), Duration.ofSeconds(90), Duration.ofMinutes(2),
            Duration.ofHours(3)}) {
            assertThat(Durations.parse(Durations.text(d))).contains(d);
        }
        assertThat(Durations.text(Duration.ofSeconds(120))).isEqualTo("2m");
    }
}
