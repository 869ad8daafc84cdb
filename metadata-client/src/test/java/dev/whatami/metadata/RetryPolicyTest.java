package dev.whatami.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
    @Test
    void isAValue_equalWhenEverySettingIs() {
        RetryPolicy a = RetryPolicy.builder().maxAttempts(4).deadline(Duration.ofSeconds(30)).build();
        RetryPolicy b = RetryPolicy.defaults().toBuilder().maxAttempts(4).deadline(Duration.ofSeconds(30)).build();
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a).isNotEqualTo(a.toBuilder().jitter(false).build());
        assertThat(a).isNotEqualTo(a.toBuilder().baseDelay(Duration.ofMillis(101)).build());
        assertThat(a.toBuilder().build()).isEqualTo(a);
        assertThat(RetryPolicy.defaults()).isEqualTo(RetryPolicy.builder().build());
        assertThat(a.toString()).isEqualTo("RetryPolicy[maxAttempts=4, baseDelay=PT0.1S, maxDelay=PT2S, "
                + "deadline=PT30S, jitter=true]");
        assertThat(RetryPolicy.defaults().toString()).contains("maxAttempts=unlimited");
    }

    @Test
    void none_isOneAttempt() {
        assertThat(RetryPolicy.none().maxAttempts()).isEqualTo(1);
        assertThat(RetryPolicy.none().allowsAttempt(0)).isTrue();
        assertThat(RetryPolicy.none().allowsAttempt(1)).isFalse();
    }

    @Test
    void backoffCeiling_doublesFromBaseToMax() {
        RetryPolicy p = RetryPolicy.defaults();
        assertThat(p.backoffCeiling(1)).isEqualTo(Duration.ofMillis(100));
        assertThat(p.backoffCeiling(2)).isEqualTo(Duration.ofMillis(200));
        assertThat(p.backoffCeiling(5)).isEqualTo(Duration.ofMillis(1600));
        assertThat(p.backoffCeiling(6)).isEqualTo(Duration.ofSeconds(2));
        assertThat(p.backoffCeiling(1000)).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void delay_isFullJitterUnderTheCeiling_orTheCeilingWithoutJitter() {
        RetryPolicy p = RetryPolicy.defaults();
        SplittableRandom random = new SplittableRandom(42);
        long distinct = 0;
        Duration previous = null;
        for (int i = 0; i < 200; i++) {
            Duration d = p.delay(3, random);
            assertThat(d).isBetween(Duration.ZERO, Duration.ofMillis(400));
            distinct += d.equals(previous) ? 0 : 1;
            previous = d;
        }
        assertThat(distinct).isGreaterThan(190);
        assertThat(p.delay(3, new SplittableRandom(7))).isEqualTo(p.delay(3, new SplittableRandom(7)));
        assertThat(p.toBuilder().jitter(false).build().delay(3, random)).isEqualTo(Duration.ofMillis(400));
    }

    @Test
    void badSettings_areRefusedWithTheValue() {
        assertThatThrownBy(() -> RetryPolicy.builder().maxAttempts(0)).hasMessage("maxAttempts must be >= 1, got 0");
        assertThatThrownBy(() -> RetryPolicy.builder().deadline(Duration.ZERO))
                .hasMessage("deadline must be positive, got PT0S");
        assertThatThrownBy(() -> RetryPolicy.builder().baseDelay(Duration.ofSeconds(3)).build())
                .hasMessage("maxDelay (PT2S) must not be less than baseDelay (PT3S)");
    }
}
