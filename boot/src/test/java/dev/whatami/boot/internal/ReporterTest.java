package dev.whatami.boot.internal;

import dev.whatami.boot.ReportPolicy;
import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import dev.whatami.testsupport.FakeTime;
import dev.whatami.testsupport.FixedRandom;
import dev.whatami.testsupport.TestHttpServer;
import dev.whatami.testsupport.TestHttpServer.Fault;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ReporterTest {
    /** Jitter that always draws half the ceiling. */
    private static final RandomGenerator HALF = FixedRandom.drawing(0.5);

    @Test
    void aSlowBoot_stillReportsItsEnd_theBudgetCountsOnlyTimeSpentReporting() throws Exception {
        FakeTime clock = new FakeTime();
        try (TestHttpServer server = TestHttpServer.start().answer("/reports", 204, new byte[0], Map.of());
             Reporter r = new Reporter(server.uri("/reports"), Optional.empty(), Duration.ofSeconds(10), clock,
                     d -> { })) {
            r.send(RunStatus.builder(RunState.RUNNING).build());
            clock.advance(Duration.ofMinutes(5)); // a long task ran
            r.send(RunStatus.builder(RunState.DONE).build());
            assertThat(server.requests("/reports")).extracting(q -> q.bodyText().contains("\"state\" : \"done\"")
                    ? "done" : "running").containsExactly("running", "done");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {503, 429, 408})
    void aServerBusyFiveTimesInARow_stillGetsTheReport_onTheSixthAttempt_withinTheBudget(int busy) throws Exception {
        AtomicInteger calls = new AtomicInteger();
        List<Duration> waits = waitsOfAReport(ReportPolicy.forBudget(ReportPolicy.DEFAULT_BUDGET), null, 5, busy,
                calls);
        assertThat(calls).hasValue(6);
        assertThat(waits).hasSize(5).allSatisfy(d -> assertThat(d).isLessThanOrEqualTo(Duration.ofSeconds(2)));
    }

    @Test
    void aReportTheServerRefuses_isNotSentAgain() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        List<Duration> waits = waitsOfAReport(ReportPolicy.forBudget(ReportPolicy.DEFAULT_BUDGET), null,
                Integer.MAX_VALUE, 400, calls);
        assertThat(calls).hasValue(1);
        assertThat(waits).isEmpty();
    }

    /**
     * The waits of one report to a server that answers {@code status} {@code times} times first.
     *
     * @param random the jitter's randomness, or null for the default
     */
    private static List<Duration> waitsOfAReport(ReportPolicy policy, RandomGenerator random, int times, int status,
                                                 AtomicInteger calls) throws Exception {
        FakeTime clock = new FakeTime();
        // answers status to the first times POSTs, then 204
        try (TestHttpServer server = TestHttpServer.start().answer("/reports", 204, new byte[0], Map.of())
                .fault("/reports", times, Fault.status(status));
             Reporter r = new Reporter(server.uri("/reports"), Optional.empty(), policy, clock, clock::sleep,
                     random)) {
            r.send(RunStatus.builder(RunState.DONE).build());
            calls.set(server.hits("/reports"));
        }
        return clock.sleeps();
    }

    @Test
    void theWaits_areThePolicysJitter_drawnFromTheInjectedRandomness() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        List<Duration> waits = waitsOfAReport(ReportPolicy.forBudget(ReportPolicy.DEFAULT_BUDGET), HALF, 5, 503,
                calls);
        assertThat(calls).hasValue(6);
        // half of 200 ms doubling to the 2 s cap
        assertThat(waits).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(400),
                Duration.ofMillis(800), Duration.ofSeconds(1));
    }

    @Test
    void aPolicyWithoutJitter_waitsTheCeilingsThemselves() throws Exception {
        ReportPolicy p = ReportPolicy.forBudget(ReportPolicy.DEFAULT_BUDGET);
        ReportPolicy steady = new ReportPolicy(p.retry().toBuilder().jitter(false).build(), p.perCallTimeout());
        AtomicInteger calls = new AtomicInteger();
        assertThat(waitsOfAReport(steady, HALF, 5, 503, calls)).containsExactly(Duration.ofMillis(200),
                Duration.ofMillis(400), Duration.ofMillis(800), Duration.ofMillis(1600), Duration.ofSeconds(2));
        assertThat(calls).hasValue(6);
    }

    @Test
    void aWaitTheBudgetCannotHold_endsTheReport_ratherThanRetryingAtOnce() throws Exception {
        ReportPolicy p = ReportPolicy.forBudget(Duration.ofSeconds(1));
        ReportPolicy steady = new ReportPolicy(p.retry().toBuilder().jitter(false).build(), p.perCallTimeout());
        AtomicInteger calls = new AtomicInteger();
        // 0.2 + 0.4 s waited; the next wait (0.8 s) would end past the 1 s budget: no fourth POST
        assertThat(waitsOfAReport(steady, HALF, 5, 503, calls)).containsExactly(Duration.ofMillis(200),
                Duration.ofMillis(400));
        assertThat(calls).hasValue(3);
    }
}
