package dev.whatami.boot.internal;

import dev.whatami.boot.ReportPolicy;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import dev.whatami.testsupport.FakeTime;
import dev.whatami.testsupport.FixedRandom;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
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
        List<String> states = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/reports", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            states.add(body.contains("\"state\" : \"done\"") ? "done" : "running");
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        server.start();
        FakeTime clock = new FakeTime();
        try (Reporter r = new Reporter(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/reports"),
                Optional.empty(), Duration.ofSeconds(10), clock, d -> { })) {
            r.send(RunStatus.builder(RunState.RUNNING).build());
            clock.advance(Duration.ofMinutes(5)); // a long task ran
            r.send(RunStatus.builder(RunState.DONE).build());
        } finally {
            server.stop(0);
        }
        assertThat(states).containsExactly("running", "done");
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

    /** A report server that answers {@code status} to the first {@code times} POSTs, then 204; counts them. */
    private static HttpServer server(int times, int status, AtomicInteger calls) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/reports", ex -> {
            ex.getRequestBody().readAllBytes();
            ex.sendResponseHeaders(calls.incrementAndGet() <= times ? status : 204, -1);
            ex.close();
        });
        server.start();
        return server;
    }

    /**
     * The waits of one report to a server that answers {@code status} {@code times} times first.
     *
     * @param random the jitter's randomness, or null for the default
     */
    private static List<Duration> waitsOfAReport(ReportPolicy policy, RandomGenerator random, int times, int status,
                                                 AtomicInteger calls) throws Exception {
        FakeTime clock = new FakeTime();
        HttpServer server = server(times, status, calls);
        try (Reporter r = new Reporter(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/reports"),
                Optional.empty(), policy, clock, clock::sleep, random)) {
            r.send(RunStatus.builder(RunState.DONE).build());
        } finally {
            server.stop(0);
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
