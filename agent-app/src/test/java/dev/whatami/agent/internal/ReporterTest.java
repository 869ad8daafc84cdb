package dev.whatami.agent.internal;

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
}
