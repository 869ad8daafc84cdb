package dev.whatami.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.metadata.RetryPolicy;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ReportPolicyTest {
    @Test
    void theDefaultBudget_givesSixAttempts_200msDoublingTo2s_withinThirtySeconds_andThreeSecondCalls() {
        ReportPolicy p = ReportPolicy.forBudget(ReportPolicy.DEFAULT_BUDGET);
        assertThat(ReportPolicy.DEFAULT_BUDGET).isEqualTo(Duration.ofSeconds(30));
        assertThat(p.retry()).isEqualTo(RetryPolicy.builder().maxAttempts(6).baseDelay(Duration.ofMillis(200))
                .maxDelay(Duration.ofSeconds(2)).deadline(Duration.ofSeconds(30)).jitter(true).build());
        assertThat(p.perCallTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(p.retry().allowsAttempt(5)).isTrue();
        assertThat(p.retry().allowsAttempt(6)).isFalse();
        assertThat(p.retry().backoffCeiling(1)).isEqualTo(Duration.ofMillis(200));
        assertThat(p.retry().backoffCeiling(4)).isEqualTo(Duration.ofMillis(1600));
        assertThat(p.retry().backoffCeiling(5)).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void aShortBudget_shortensEachCallToIt_butNeverBelow100ms() {
        assertThat(ReportPolicy.forBudget(Duration.ofMillis(1500)).perCallTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(ReportPolicy.forBudget(Duration.ofMillis(20)).perCallTimeout()).isEqualTo(Duration.ofMillis(100));
        assertThat(ReportPolicy.forBudget(Duration.ofMinutes(2)).perCallTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(ReportPolicy.forBudget(Duration.ofMinutes(2)).retry().deadline()).isEqualTo(Duration.ofMinutes(2));
    }

    @Test
    void aBudgetOfNothing_isRefused() {
        assertThatThrownBy(() -> ReportPolicy.forBudget(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the report budget must be positive, got PT0S");
    }
}
