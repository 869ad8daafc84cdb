package dev.whatami.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Every fault, on the wire, and that faults are thread-safe and quiet. */
class FaultsTest {
    private static final String GET_USER_DATA = "GET /latest/user-data HTTP/1.1\r\nHost: x\r\n\r\n";

    @Test
    void failNext_answersTheStatus_withRetryAfter_thenRecovers() throws Exception {
        try (MetadataEmulator imds = MetadataEmulator.builder().userData("u").start()) {
            imds.faults().failNext(1, 503).failNext(1, 429, Duration.ofMillis(1500));
            URI e = imds.endpoint();
            HttpResponse<String> first = Http.get(e, "/latest/user-data");
            assertThat(first.statusCode()).isEqualTo(503);
            assertThat(first.headers().firstValue("Retry-After")).isEmpty();
            HttpResponse<String> second = Http.get(e, "/latest/user-data");
            assertThat(second.statusCode()).isEqualTo(429);
            assertThat(second.headers().firstValue("Retry-After")).hasValue("2");
            assertThat(Http.get(e, "/latest/user-data").body()).isEqualTo("u");
        }
    }

    @Test
    void forPath_limitsAFault_andClearOnTheViewLeavesTheRest() throws Exception {
        try (MetadataEmulator imds = MetadataEmulator.builder().userData("u").start()) {
            imds.faults().forPath("/latest/meta-data/").failNext(Faults.ALWAYS, 500);
            imds.faults().forPath("/latest/user-data").failNext(Faults.ALWAYS, 502);
            URI e = imds.endpoint();
            assertThat(Http.get(e, "/latest/meta-data/instance-id").statusCode()).isEqualTo(500);
            assertThat(Http.get(e, "/latest/meta-data/placement/region").statusCode()).isEqualTo(500);
            assertThat(Http.get(e, "/latest/user-data").statusCode()).isEqualTo(502);
            imds.faults().forPath("/latest/user-data").clear();
            assertThat(Http.get(e, "/latest/user-data").statusCode()).isEqualTo(200);
            assertThat(Http.get(e, "/latest/meta-data/instance-id").statusCode()).isEqualTo(500);
            imds.faults().clear();
            assertThat(Http.get(e, "/latest/meta-data/instance-id").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void dropNext_sendsTheHeadAndHalfTheBody_thenResets() throws Exception {
        try (MetadataEmulator imds = MetadataEmulator.builder().userData("0123456789").start()) {
            imds.faults().dropNext(1);
            Http.Raw r = Http.raw(imds, GET_USER_DATA, 1 << 16, Duration.ofSeconds(5));
            assertThat(r.text()).startsWith("HTTP/1.1 200 OK\r\n").contains("Content-Length: 10\r\n")
                    .endsWith("\r\n\r\n01234");
            assertThat(r.ending()).isIn("reset", "eof");
            assertThat(Http.raw(imds, GET_USER_DATA.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"), 1 << 16,
                    Duration.ofSeconds(5)).text()).endsWith("0123456789");
        }
    }

    @Test
    void hangNext_neverAnswers_untilTheEmulatorStops() throws Exception {
        MetadataEmulator imds = MetadataEmulator.builder().userData("u").start();
        try {
            imds.faults().forPath("/latest/api/token").hangNext(1);
            Http.Raw r = Http.raw(imds, "PUT /latest/api/token HTTP/1.1\r\nHost: x\r\n"
                    + "X-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n", 1 << 16, Duration.ofMillis(500));
            assertThat(r.ending()).isEqualTo("timeout");
            assertThat(r.text()).isEmpty();
            assertThat(Http.send(imds.endpoint(), "PUT", "/latest/api/token", "X-aws-ec2-metadata-token-ttl-seconds",
                    "60").statusCode()).isEqualTo(200); // only the next one
        } finally {
            imds.close();
        }
    }

    @Test
    void endlessBody_isChunkedAndNeverEnds() throws Exception {
        try (MetadataEmulator imds = MetadataEmulator.builder().userData("u").start()) {
            imds.faults().endlessBodyNext(1);
            Http.Raw r = Http.raw(imds, GET_USER_DATA, 4 << 20, Duration.ofSeconds(10));
            assertThat(r.ending()).isEqualTo("limit");
            assertThat(r.text()).startsWith("HTTP/1.1 200 OK\r\n").contains("Transfer-Encoding: chunked\r\n")
                    .doesNotContain("Content-Length").contains("\r\n\r\n1\r\nu\r\n2000\r\nxxxx");
        }
    }

    @Test
    void dribble_sendsOneBytePerInterval() throws Exception {
        try (MetadataEmulator imds = MetadataEmulator.builder().userData("abcdef").start()) {
            imds.faults().dribbleNext(1, Duration.ofMillis(150));
            long start = System.nanoTime();
            Http.Raw r = Http.raw(imds, GET_USER_DATA.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"), 1 << 16,
                    Duration.ofSeconds(10));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertThat(r.text()).endsWith("\r\n\r\nabcdef");
            assertThat(millis).isGreaterThanOrEqualTo(5 * 150);
        }
    }

    @Test
    void delay_andSlowToken_wait_beforeTheHead() throws Exception {
        try (MetadataEmulator imds = MetadataEmulator.builder().userData("u").start()) {
            imds.faults().slowToken(Duration.ofMillis(2500));
            long start = System.nanoTime();
            assertThat(Http.get(imds.endpoint(), "/latest/user-data").body()).isEqualTo("u");
            long plain = System.nanoTime() - start;
            start = System.nanoTime();
            assertThat(Http.send(imds.endpoint(), "PUT", "/latest/api/token", "X-aws-ec2-metadata-token-ttl-seconds",
                    "60").statusCode()).isEqualTo(200);
            long token = System.nanoTime() - start;
            assertThat(Duration.ofNanos(token)).isGreaterThanOrEqualTo(Duration.ofMillis(2500));
            assertThat(Duration.ofNanos(plain)).isLessThan(Duration.ofMillis(2500)); // a wide margin: machines are busy
            imds.faults().clear().delay(Duration.ofMillis(300));
            start = System.nanoTime();
            Http.get(imds.endpoint(), "/latest/user-data");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        }
    }

    @Test
    void slowNext_delaysOnlyTheNextAnswers_thenTheFaultAfterItApplies() throws Exception {
        try (MetadataEmulator imds = MetadataEmulator.builder().userData("u").start()) {
            imds.faults().slowNext(1, Duration.ofMillis(2500)).failNext(1, 503);
            long start = System.nanoTime();
            assertThat(Http.get(imds.endpoint(), "/latest/user-data").statusCode()).isEqualTo(503);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(2500));
            start = System.nanoTime();
            assertThat(Http.get(imds.endpoint(), "/latest/user-data").body()).isEqualTo("u");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(2500));
        }
    }

    @Test
    void failNext_countsExactly_underConcurrentRequests() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try (MetadataEmulator imds = MetadataEmulator.builder().userData("u").start()) {
            imds.faults().failNext(7, 500);
            List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                results.add(pool.submit(() -> Http.get(imds.endpoint(), "/latest/user-data").statusCode()));
            }
            int failed = 0;
            for (Future<Integer> f : results) {
                failed += f.get() == 500 ? 1 : 0;
            }
            assertThat(failed).isEqualTo(7);
            assertThat(imds.requestCount("GET", "/latest/user-data")).isEqualTo(40);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void badFaultSettings_areRefusedWithTheFix() {
        try (MetadataEmulator imds = MetadataEmulator.builder().start()) {
            assertThatThrownBy(() -> imds.faults().failNext(0, 500)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("a fault needs a count of at least 1 (or Faults.ALWAYS), got 0");
            assertThatThrownBy(() -> imds.faults().forPath("latest")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("a fault's path starts with /, e.g. /latest/user-data; got latest");
            assertThatThrownBy(() -> imds.faults().failNext(1, 99)).hasMessage("status must be 200 to 599, got 99");
        }
    }

    /** slf4j-simple prints to the System.err of the moment: nothing of the faults may reach it, above all no trace. */
    @Test
    void injectedFaults_printNothing() throws Exception {
        PrintStream saved = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try (MetadataEmulator imds = MetadataEmulator.builder().userData("0123456789").start()) {
            imds.faults().dropNext(1);
            Http.raw(imds, GET_USER_DATA, 1 << 16, Duration.ofSeconds(5));
            imds.faults().endlessBodyNext(1);
            Http.raw(imds, GET_USER_DATA, 1 << 20, Duration.ofSeconds(5)); // the client hangs up mid-body
            imds.faults().hangNext(1);
            Http.raw(imds, GET_USER_DATA, 1 << 16, Duration.ofMillis(200));
            imds.faults().dribbleNext(1, Duration.ofSeconds(5));
            Http.raw(imds, GET_USER_DATA, 1 << 16, Duration.ofMillis(200));
            Http.raw(imds, "NONSENSE\r\n\r\n", 1 << 16, Duration.ofSeconds(5));
            Thread.sleep(200); // let the server threads notice the closed connections
        } finally {
            System.setErr(saved);
        }
        assertThat(captured.toString(StandardCharsets.UTF_8)).isEmpty();
    }
}
