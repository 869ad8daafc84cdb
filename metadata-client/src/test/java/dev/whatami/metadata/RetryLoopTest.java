package dev.whatami.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.metadata.RetryLoop.Outcome;
import dev.whatami.metadata.RetryLoop.Stop;
import dev.whatami.testsupport.FakeTime;
import dev.whatami.testsupport.FixedRandom;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class RetryLoopTest {
    /** Jitter that always draws half the ceiling. */
    private static final RandomGenerator HALF = FixedRandom.drawing(0.5);

    private final FakeTime time = new FakeTime();
    private final List<Integer> attempts = new ArrayList<>();

    private RetryLoop loop(RetryPolicy policy, RandomGenerator random) {
        return RetryLoop.of(policy, time, time::sleep, random);
    }

    private Instant deadline(RetryPolicy policy) {
        return time.instant().plus(policy.deadline());
    }

    /** Fails every time with an I/O error; counts its attempts. */
    private <T> Outcome<T> failing(int n) {
        attempts.add(n);
        return Outcome.retry(new IOException("refused " + n));
    }

    @Test
    void stopsAtTheAttemptLimit_withoutAWaitAfterTheLast_andSaysWhatFailedLast() {
        RetryPolicy p = RetryPolicy.builder().maxAttempts(3).jitter(false).build();
        Stop stop = loop(p, HALF).run(deadline(p), this::failing, s -> s);
        assertThat(attempts).containsExactly(1, 2, 3);
        assertThat(stop.reason()).isEqualTo(Stop.Reason.ATTEMPTS);
        assertThat(stop.attempts()).isEqualTo(3);
        assertThat(stop.lastFailure()).get().extracting(Throwable::getMessage).isEqualTo("refused 3");
        assertThat(stop.cause()).hasMessage("refused 3");
        assertThat(time.sleeps()).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
    }

    @Test
    void waitsTheBackoff_drawnFromTheInjectedJitter_cappedAtMaxDelay() {
        RetryPolicy p = RetryPolicy.builder().maxAttempts(7).baseDelay(Duration.ofMillis(100))
                .maxDelay(Duration.ofMillis(1000)).deadline(Duration.ofMinutes(1)).build();
        loop(p, HALF).run(deadline(p), this::failing, s -> s);
        // half of 100, 200, 400, 800, then of the 1 s cap
        assertThat(time.sleeps()).containsExactly(Duration.ofMillis(50), Duration.ofMillis(100),
                Duration.ofMillis(200), Duration.ofMillis(400), Duration.ofMillis(500), Duration.ofMillis(500));

        time.sleeps().clear();
        loop(p.toBuilder().jitter(false).build(), HALF).run(deadline(p), this::failing, s -> s);
        assertThat(time.sleeps()).as("no jitter: the ceilings themselves").containsExactly(Duration.ofMillis(100),
                Duration.ofMillis(200), Duration.ofMillis(400), Duration.ofMillis(800), Duration.ofMillis(1000),
                Duration.ofMillis(1000));
    }

    @Test
    void aLongerRetryAfter_winsOverTheBackoff_aShorterOneDoesNot() {
        RetryPolicy p = RetryPolicy.builder().maxAttempts(3).jitter(false).build();
        loop(p, FixedRandom.drawing(0)).run(deadline(p), n -> Outcome.retry(null, n == 1 ? Duration.ofSeconds(3)
                : Duration.ofMillis(1)), s -> s);
        assertThat(time.sleeps()).containsExactly(Duration.ofSeconds(3), Duration.ofMillis(200));
    }

    @Test
    void startsNoAttemptAfterAWaitThatWouldEndAtTheDeadline() {
        RetryPolicy p = RetryPolicy.builder().jitter(false).deadline(Duration.ofSeconds(1)).build();
        Instant start = time.instant();
        Stop stop = loop(p, HALF).run(deadline(p), this::failing, s -> s);
        // 0.1 + 0.2 + 0.4 = 0.7 s waited; the next wait (0.8 s) would end past the 1 s deadline
        assertThat(stop.reason()).isEqualTo(Stop.Reason.DEADLINE);
        assertThat(attempts).containsExactly(1, 2, 3, 4);
        assertThat(time.sleeps()).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200),
                Duration.ofMillis(400));
        assertThat(Duration.between(start, time.instant())).isEqualTo(Duration.ofMillis(700));
    }

    @Test
    void aRetryAfterPastTheDeadline_endsTheRunAtOnce() {
        RetryPolicy p = RetryPolicy.builder().deadline(Duration.ofSeconds(10)).build();
        Stop stop = loop(p, HALF).run(deadline(p), n -> {
            attempts.add(n);
            return Outcome.retry(null, Duration.ofSeconds(10));
        }, s -> s);
        assertThat(stop.reason()).isEqualTo(Stop.Reason.DEADLINE);
        assertThat(stop.lastFailure()).isEmpty();
        assertThat(attempts).containsExactly(1);
        assertThat(time.sleeps()).isEmpty();
    }

    @Test
    void anErrorTheAttemptThrows_isNotRetried_andReachesTheCallerAsItIs() {
        RetryPolicy p = RetryPolicy.defaults();
        IllegalStateException refused = new IllegalStateException("HTTP 403");
        assertThatThrownBy(() -> loop(p, HALF).run(deadline(p), n -> {
            attempts.add(n);
            throw refused;
        }, s -> "gave up")).isSameAs(refused);
        assertThat(attempts).containsExactly(1);
        assertThat(time.sleeps()).isEmpty();
    }

    @Test
    void aDoneAttempt_endsTheRunWithItsValue() {
        RetryPolicy p = RetryPolicy.builder().jitter(false).build();
        String v = loop(p, HALF).run(deadline(p), n -> n < 3 ? Outcome.retry(new IOException("reset"))
                : Outcome.done("answer " + n), s -> "gave up");
        assertThat(v).isEqualTo("answer 3");
        assertThat(time.sleeps()).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
    }

    @Test
    void anInterruptedWait_endsTheRun_andKeepsTheInterrupt() {
        RetryPolicy p = RetryPolicy.defaults();
        InterruptedException interrupt = new InterruptedException("stop");
        RetryLoop loop = RetryLoop.of(p, time, d -> {
            throw interrupt;
        });
        try {
            Stop stop = loop.run(deadline(p), this::failing, s -> s);
            assertThat(stop.reason()).isEqualTo(Stop.Reason.INTERRUPTED);
            assertThat(stop.attempts()).isEqualTo(1);
            assertThat(stop.cause()).isSameAs(interrupt);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void theRetriedStatuses_are5xx_429_and408_only() {
        assertThat(List.of(500, 502, 503, 504, 599, 429, 408)).allMatch(RetryLoop::retriedStatus);
        assertThat(List.of(200, 204, 301, 304, 400, 401, 403, 404, 410, 499)).noneMatch(RetryLoop::retriedStatus);
    }

    @Test
    void byDefault_theJitterIsEachThreadsOwn_withinTheCeilings() throws Exception {
        RetryPolicy p = RetryPolicy.builder().maxAttempts(6).build();
        RetryLoop loop = RetryLoop.of(p, time, time::sleep);
        Thread other = new Thread(() -> loop.run(deadline(p), this::failing, s -> s));
        other.start();
        other.join();
        loop.run(deadline(p), this::failing, s -> s);
        assertThat(time.sleeps()).hasSize(10);
        for (int i = 0; i < 10; i++) {
            assertThat(time.sleeps().get(i)).isBetween(Duration.ZERO, p.backoffCeiling(i % 5 + 1));
        }
    }
}
