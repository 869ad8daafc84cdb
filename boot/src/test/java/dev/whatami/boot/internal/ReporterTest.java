package dev.whatami.boot.internal;

import dev.whatami.boot.ReportPolicy;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ReporterTest {
    /** A clock the test moves: the boot's own work takes time between reports. */
    private static final class MovingClock extends Clock {
        final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-02T00:00:00Z"));

        @Override
        public ZoneId getZone() {
            return ZoneId.of("UTC");
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    }

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
        MovingClock clock = new MovingClock();
        try (Reporter r = new Reporter(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/reports"),
                Optional.empty(), Duration.ofSeconds(10), clock, d -> { })) {
            r.send(RunStatus.builder(RunState.RUNNING).build());
            clock.now.updateAndGet(t -> t.plus(Duration.ofMinutes(5))); // a long task ran
            r.send(RunStatus.builder(RunState.DONE).build());
        } finally {
            server.stop(0);
        }
        assertThat(states).containsExactly("running", "done");
    }

    @ParameterizedTest
    @ValueSource(ints = {503, 429, 408})
    void aServerBusyFiveTimesInARow_stillGetsTheReport_onTheSixthAttempt_withinTheBudget(int busy) throws Exception {
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        List<Duration> sleeps = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/reports", ex -> {
            ex.getRequestBody().readAllBytes();
            ex.sendResponseHeaders(calls.incrementAndGet() <= 5 ? busy : 204, -1);
            ex.close();
        });
        server.start();
        MovingClock clock = new MovingClock();
        try (Reporter r = new Reporter(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/reports"),
                Optional.empty(), ReportPolicy.DEFAULT_BUDGET, clock, d -> {
                    sleeps.add(d);
                    clock.now.updateAndGet(t -> t.plus(d));
                })) {
            r.send(RunStatus.builder(RunState.DONE).build());
        } finally {
            server.stop(0);
        }
        assertThat(calls).hasValue(6);
        assertThat(sleeps).hasSize(5).allSatisfy(d -> assertThat(d).isLessThanOrEqualTo(Duration.ofSeconds(2)));
    }

    @Test
    void aReportTheServerRefuses_isNotSentAgain() throws Exception {
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/reports", ex -> {
            ex.getRequestBody().readAllBytes();
            calls.incrementAndGet();
            ex.sendResponseHeaders(400, -1);
            ex.close();
        });
        server.start();
        MovingClock clock = new MovingClock();
        try (Reporter r = new Reporter(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/reports"),
                Optional.empty(), ReportPolicy.DEFAULT_BUDGET, clock, d -> clock.now.updateAndGet(t -> t.plus(d)))) {
            r.send(RunStatus.builder(RunState.DONE).build());
        } finally {
            server.stop(0);
        }
        assertThat(calls).hasValue(1);
    }
}
