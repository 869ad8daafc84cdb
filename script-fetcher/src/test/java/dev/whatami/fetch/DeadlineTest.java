package dev.whatami.fetch;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.metadata.RetryPolicy;
import dev.whatami.testsupport.FakeTime;
import dev.whatami.testsupport.Ports;
import dev.whatami.testsupport.TestHttpServer;
import dev.whatami.testsupport.TestHttpServer.Fault;
import dev.whatami.userdata.Digest;
import dev.whatami.userdata.DigestAlgorithm;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fetching under a deadline: rounds over the URL and its mirrors until it, Retry-After honoured within it, and every
 * outcome typed — not fetched (with why) or refused (with why).
 */
class DeadlineTest {
    private static final byte[] SCRIPT = "#!/bin/sh\necho late\n".getBytes(UTF_8);
    /** No jitter, 1 s doubling to 4 s, unlimited rounds: waits can be asserted exactly. */
    private static final RetryPolicy STEADY = RetryPolicy.builder().baseDelay(Duration.ofSeconds(1))
            .maxDelay(Duration.ofSeconds(4)).jitter(false).build();

    @TempDir
    Path dir;
    private final FakeTime time = new FakeTime();
    private final FileServer server = new FileServer();
    private FileServer late;

    @AfterEach
    void stop() {
        server.close();
        if (late != null) {
            late.close();
        }
    }

    /** The bad morning: the file server answers nothing for 8 s of the first boot. Default settings. */
    @Test
    void aFileServerThatComesUp8sLate_isWaitedFor_withDefaultSettings() throws Exception {
        int port = Ports.free();
        time.onSleep(elapsed -> {
            if (late == null && elapsed.compareTo(Duration.ofSeconds(8)) >= 0) {
                late = new FileServer(port).file("/scriptserver/role.sh", SCRIPT);
            }
        });
        URI url = URI.create("http://127.0.0.1:" + port + "/scriptserver/role.sh");
        try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep).build()) {
            FetchResult r = f.fetch(FetchRequest.builder(url, dir, "role.sh").build());
            assertThat(Files.readAllBytes(r.path())).isEqualTo(SCRIPT);
            assertThat(r.attempts()).isGreaterThan(3);
        }
        assertThat(time.elapsed()).isBetween(Duration.ofSeconds(8), Duration.ofSeconds(11)); // at most one 2 s wait late
        assertThat(time.sleeps()).allSatisfy(d -> assertThat(d).isLessThanOrEqualTo(Duration.ofSeconds(2)));
    }

    @Test
    void aServerAnswering503UntilItIsReady_isWaitedFor() throws Exception {
        server.file("/c.sh", SCRIPT);
        for (int i = 0; i < 6; i++) {
            server.failOnce("/c.sh", 503);
        }
        try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(STEADY).build()) {
            FetchResult r = f.fetch(FetchRequest.builder(server.url("/c.sh"), dir, "c.sh").build());
            assertThat(r.attempts()).isEqualTo(7);
        }
        assertThat(time.sleeps()).containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4),
                Duration.ofSeconds(4), Duration.ofSeconds(4), Duration.ofSeconds(4));
    }

    @Test
    void aServerThatNeverComes_isGivenUpAtTheRequestsDeadline_neverAfter() throws Exception {
        URI url = URI.create("http://127.0.0.1:" + Ports.free() + "/c.sh");
        Instant deadline = time.instant().plusSeconds(10);
        try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(STEADY).build()) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(url, dir, "c.sh").deadline(deadline).build()))
                    .isInstanceOfSatisfying(FetchException.class, e -> {
                        assertThat(e.failure()).isEqualTo(FetchFailure.UNREACHABLE);
                        assertThat(e.attempts()).isEqualTo(4); // at 0, 1, 3 and 7 s; the next would be at 11 s
                    })
                    .hasMessageStartingWith("could not fetch c.sh: tried " + url + " (4 attempts, last: "
                            + "HttpHostConnectException")
                    .hasMessageContaining("; gave up at the fetch's deadline after 4 attempts over 7.0 s.");
        }
        assertThat(time.instant()).isBefore(deadline);
    }

    @Test
    void withoutARequestDeadline_thePolicysDeadlineApplies() throws Exception {
        URI url = URI.create("http://127.0.0.1:" + Ports.free() + "/c.sh");
        RetryPolicy policy = STEADY.toBuilder().deadline(Duration.ofSeconds(5)).build();
        try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(policy).build()) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(url, dir, "c.sh").build()))
                    .hasMessageContaining("gave up at the retry policy's deadline (5.0 s) after 3 attempts over 3.0 s");
        }
    }

    @Test
    void retryAfter_isHonoured() throws Exception {
        server.file("/c.sh", SCRIPT).status("/c.sh", 503, Map.of("Retry-After", "7"))
                .status("/c.sh", 429, Map.of("Retry-After", "20"));
        try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(STEADY).build()) {
            f.fetch(FetchRequest.builder(server.url("/c.sh"), dir, "c.sh").build());
        }
        assertThat(time.sleeps()).containsExactly(Duration.ofSeconds(7), Duration.ofSeconds(20));
    }

    @Test
    void aRetryAfterPastTheDeadline_endsTheFetchAtOnce_insteadOfWaiting() throws Exception {
        server.file("/c.sh", SCRIPT).status("/c.sh", 429, Map.of("Retry-After", "3600"));
        try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(STEADY).build()) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(server.url("/c.sh"), dir, "c.sh")
                    .deadline(time.instant().plusSeconds(60)).build()))
                    .isInstanceOfSatisfying(FetchException.class,
                            e -> assertThat(e.failure()).isEqualTo(FetchFailure.TOO_MANY_REQUESTS))
                    .hasMessageContaining("(HTTP 429); gave up at the fetch's deadline after 1 "
                            + "attempt over 0.0 s");
        }
        assertThat(time.sleeps()).isEmpty();
    }

    @Test
    void aRetryAfterOnThePrimary_letsTheMirrorServeWithoutWaiting() throws Exception {
        server.file("/b/c.sh", SCRIPT).status("/a/c.sh", 503, Map.of("Retry-After", "30"));
        try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(STEADY).build()) {
            FetchResult r = f.fetch(FetchRequest.builder(server.url("/a/c.sh"), dir, "c.sh")
                    .mirrors(List.of(server.url("/b/c.sh"))).build());
            assertThat(r.source()).isEqualTo(server.url("/b/c.sh"));
        }
        assertThat(time.sleeps()).isEmpty();
    }

    @Test
    void roundsGoOverEveryUrl_thenBackOff_andA404IsNotAskedAgain() throws Exception {
        URI down = URI.create("http://127.0.0.1:" + Ports.free() + "/c.sh");
        server.file("/c/c.sh", SCRIPT).failOnce("/c/c.sh", 500).failOnce("/c/c.sh", 502);
        try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(STEADY).build()) {
            FetchResult r = f.fetch(FetchRequest.builder(server.url("/a/c.sh"), dir, "c.sh")
                    .mirrors(List.of(down, server.url("/c/c.sh"))).build());
            assertThat(r.source()).isEqualTo(server.url("/c/c.sh"));
            assertThat(r.attempts()).isEqualTo(1 + 3 + 3); // /a once (404), the others in each of 3 rounds
        }
        assertThat(server.requests).containsExactly("/a/c.sh", "/c/c.sh", "/c/c.sh", "/c/c.sh");
        assertThat(time.sleeps()).containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2));
    }

    @Test
    void everyUrlGivingAFinalAnswer_endsTheFetchWithoutWaiting() {
        try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(STEADY).build()) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(server.url("/a/c.sh"), dir, "c.sh")
                    .mirrors(List.of(server.url("/b/c.sh"))).build()))
                    .isInstanceOfSatisfying(FetchException.class, e -> {
                        assertThat(e.failure()).isEqualTo(FetchFailure.NOT_FOUND);
                        assertThat(e.failures()).containsExactly(Map.entry(server.url("/a/c.sh"), FetchFailure.NOT_FOUND),
                                Map.entry(server.url("/b/c.sh"), FetchFailure.NOT_FOUND));
                    });
        }
        assertThat(time.sleeps()).isEmpty();
    }

    @Test
    void aRefusalOnEveryUrl_isARefusal_namingTheMirrorsToo() throws Exception {
        server.file("/a/c.sh", SCRIPT).file("/b/c.sh", SCRIPT);
        Digest wrong = new Digest(DigestAlgorithm.SHA256, "0".repeat(64));
        try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(STEADY).build()) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(server.url("/a/c.sh"), dir, "c.sh")
                    .mirrors(List.of(server.url("/b/c.sh"))).digest(Optional.of(wrong)).build()))
                    .isInstanceOfSatisfying(IntegrityException.class, e -> {
                        assertThat(e.reason()).isEqualTo(RefusalReason.PIN_MISMATCH);
                        assertThat(e.attempts()).isEqualTo(2);
                        assertThat(e.failures()).containsValues(FetchFailure.REFUSED, FetchFailure.REFUSED);
                    })
                    .hasMessageEndingWith("fix whichever is not what you meant. The mirrors were refused too: "
                            + server.url("/b/c.sh") + " (sha256 mismatch).");
        }
        assertThat(time.sleeps()).isEmpty();
    }

    @Test
    void aRefusalOnThePrimaryAndAnUnreachableMirror_isNotFetched_sayingBoth() throws Exception {
        server.file("/a/c.sh", SCRIPT);
        URI down = URI.create("http://127.0.0.1:" + Ports.free() + "/c.sh");
        Digest wrong = new Digest(DigestAlgorithm.SHA256, "0".repeat(64));
        try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep)
                .retryPolicy(STEADY.toBuilder().maxAttempts(2).build()).build()) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(server.url("/a/c.sh"), dir, "c.sh")
                    .mirrors(List.of(down)).digest(Optional.of(wrong)).build()))
                    .isInstanceOfSatisfying(FetchException.class, e -> {
                        assertThat(e).isNotInstanceOf(FetchRefusedException.class);
                        assertThat(e.failure()).isEqualTo(FetchFailure.UNREACHABLE);
                        assertThat(e.failures()).containsExactly(Map.entry(server.url("/a/c.sh"), FetchFailure.REFUSED),
                                Map.entry(down, FetchFailure.UNREACHABLE));
                    })
                    .hasMessageStartingWith("could not fetch c.sh: tried " + server.url("/a/c.sh")
                            + " (sha256 mismatch); " + down + " (2 attempts, last: HttpHostConnectException");
        }
        assertThat(server.hits("/a/c.sh")).isEqualTo(1);
    }

    @Test
    void urlsInMessages_areRedacted() {
        URI presigned = URI.create(server.url("/c.sh") + "?token=s3cr3t");
        try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(STEADY).build()) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(presigned, dir, "c.sh").build()))
                    .hasMessage("could not fetch c.sh: tried http://127.0.0.1:" + server.port() + "/c.sh?*** "
                            + "(HTTP 404 Not Found). Check that the file server is up and serves the file at that "
                            + "URL (or add a mirror=).")
                    .hasMessageNotContaining("s3cr3t");
        }
    }

    @Test
    void aUrlWithCredentials_isRefusedByPolicy_withoutShowingThem() {
        URI secret = URI.create("http://alice:hunter2@127.0.0.1:" + server.port() + "/c.sh");
        try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(STEADY).build()) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(server.url("/c.sh"), dir, "c.sh")
                    .mirrors(List.of(secret)).build()))
                    .isInstanceOfSatisfying(FetchRefusedException.class,
                            e -> assertThat(e.reason()).isEqualTo(RefusalReason.POLICY))
                    .hasMessage("refused http://***@127.0.0.1:" + server.port() + "/c.sh: a URL with credentials in "
                            + "it (user:password@) is not used, as they would be sent in the clear and shown wherever "
                            + "the URL is; serve the script without them, or give a presigned URL");
        }
        assertThat(server.hits.get()).isZero();
    }

    @Test
    void aTargetThatCannotBeWritten_endsTheFetchAtOnce() throws Exception {
        server.file("/c.sh", SCRIPT);
        Path notADir = Files.writeString(dir.resolve("file"), "x");
        try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(STEADY).build()) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(server.url("/c.sh"), notADir.resolve("task"),
                    "c.sh").mirrors(List.of(server.url("/c.sh"))).build()))
                    .isInstanceOfSatisfying(FetchException.class, e -> {
                        assertThat(e.failure()).isEqualTo(FetchFailure.LOCAL_IO);
                        assertThat(e.attempts()).isEqualTo(1);
                    })
                    .hasMessageStartingWith("could not fetch c.sh: cannot create a staging file in " + notADir
                            .resolve("task"));
        }
        assertThat(time.sleeps()).isEmpty();
    }

    @Test
    void anInterruptWhileWaiting_endsTheFetch() throws Exception {
        URI url = URI.create("http://127.0.0.1:" + Ports.free() + "/c.sh");
        try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(d -> {
            throw new InterruptedException();
        }).retryPolicy(STEADY).build()) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(url, dir, "c.sh").build()))
                    .isInstanceOfSatisfying(FetchException.class,
                            e -> assertThat(e.failure()).isEqualTo(FetchFailure.INTERRUPTED));
            assertThat(Thread.interrupted()).isTrue();
        }
    }

    /**
     * An attempt in progress is aborted at the deadline: a server that accepted the connection and sends one byte a
     * second never trips the read timeout. Real time, but bounded: the deadline is 1.5 s, the read timeout 30 s.
     */
    @Test
    void anAttemptInProgress_isAbortedAtTheDeadline() throws Exception {
        try (TestHttpServer dribbler = TestHttpServer.start()) {
            dribbler.file("/c.sh", "x".repeat(1000).getBytes(UTF_8))
                    .fault("/c.sh", Integer.MAX_VALUE, Fault.dribble(1, Duration.ofMillis(200)));
            URI url = dribbler.uri("/c.sh");
            long started = System.nanoTime();
            try (ScriptFetcher f = ScriptFetcher.builder().retryPolicy(STEADY).build()) {
                assertThatThrownBy(() -> f.fetch(FetchRequest.builder(url, dir, "c.sh")
                        .deadline(Instant.now().plusMillis(1500)).build()))
                        .isInstanceOfSatisfying(FetchException.class,
                                e -> assertThat(e.failure()).isEqualTo(FetchFailure.TIMEOUT))
                        .hasMessageContaining("(no complete answer by the fetch's deadline after ");
            }
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(15));
            assertThat(dribbler.awaitFailure(Duration.ofSeconds(10)))
                    .as("the server's write failed: the connection was closed").isTrue();
        }
        assertThat(dir.resolve("c.sh")).doesNotExist();
    }

    /**
     * The watchdog's cancel can land between two steps of HttpClient's exec chain (found by CI in the metadata
     * client: a NullPointerException "Client connection"): at any point, it is a timeout, never a crash.
     */
    @Test
    void aDeadlineThatCutsARequestAnywhere_isATimeout() throws Exception {
        // never accepted from, never answers: the kernel completes the connection, the request goes out, nothing
        // comes back; held for the whole test so no other process can take the port
        try (ServerSocket silent = new ServerSocket(0, 64, InetAddress.getLoopbackAddress())) {
            URI url = URI.create("http://127.0.0.1:" + silent.getLocalPort() + "/c.sh");
            try (ScriptFetcher f = ScriptFetcher.builder().retryPolicy(STEADY).build()) {
                for (int i = 0; i < 30; i++) {
                    Instant deadline = Instant.now().plusMillis(1 + i * 10L);
                    assertThatThrownBy(() -> f.fetch(FetchRequest.builder(url, dir, "c.sh").deadline(deadline)
                            .build())).isInstanceOfSatisfying(FetchException.class,
                                    e -> assertThat(e.failure()).isEqualTo(FetchFailure.TIMEOUT));
                }
            }
        }
        assertThat(dir.resolve("c.sh")).doesNotExist();
    }
}
