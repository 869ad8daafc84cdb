package dev.whatami.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FakeTimeTest {
    @Test
    void sleeping_recordsTheWait_movesTheClock_andRunsTheHooksWithTheElapsedTime() {
        FakeTime time = new FakeTime(Instant.parse("2026-12-02T06:00:00Z"));
        List<Duration> seen = new ArrayList<>();
        time.onSleep(seen::add).onSleep(e -> seen.add(e.negated()));
        time.sleep(Duration.ofMillis(100));
        time.advance(Duration.ofSeconds(1));
        time.sleep(Duration.ofMillis(200));
        assertThat(time.sleeps()).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
        assertThat(time.slept()).isEqualTo(Duration.ofMillis(300));
        assertThat(time.elapsed()).isEqualTo(Duration.ofMillis(1300));
        assertThat(time.instant()).isEqualTo(Instant.parse("2026-12-02T06:00:01.300Z"));
        assertThat(time.start()).isEqualTo(Instant.parse("2026-12-02T06:00:00Z"));
        assertThat(seen).containsExactly(Duration.ofMillis(100), Duration.ofMillis(-100), Duration.ofMillis(1300),
                Duration.ofMillis(-1300));
    }

    @Test
    void startsAtTheDefault_staysInUtc_andNeverGoesBack() {
        FakeTime time = new FakeTime();
        assertThat(time.instant()).isEqualTo(FakeTime.DEFAULT_START);
        assertThat(time.withZone(java.time.ZoneId.of("Europe/Paris"))).isSameAs(time);
        assertThatThrownBy(() -> time.advance(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("time does not go back: advance(PT-1S)");
    }

    @Test
    void aTickingClock_movesOnAtEveryReading_butNotWhenPeekedAt() {
        FakeTime time = new FakeTime(Instant.EPOCH).ticking(Duration.ofMillis(1));
        assertThat(time.instant()).isEqualTo(Instant.ofEpochMilli(1));
        assertThat(time.millis()).isEqualTo(2);
        assertThat(time.now()).isEqualTo(Instant.ofEpochMilli(2));
        assertThat(time.elapsed()).isEqualTo(Duration.ofMillis(2));
        assertThat(time.sleeps()).isEmpty();
    }
}
