package dev.whatami.fetch;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.metadata.RetryPolicy;
import dev.whatami.status.Trust;
import dev.whatami.testsupport.FakeTime;
import dev.whatami.testsupport.FixedRandom;
import dev.whatami.userdata.Digest;
import dev.whatami.userdata.DigestAlgorithm;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScriptFetcherTest {
    private static final byte[] SCRIPT = "#!/bin/sh\necho collector\n".getBytes(UTF_8);

    @TempDir
    Path dir;
    private final FileServer server = new FileServer();
    private final FakeTime time = new FakeTime();
    private final List<Duration> sleeps = time.sleeps();
    /** Rounds 500 ms apart, doubling, no jitter, at most 3: the waits can be asserted exactly. */
    static final RetryPolicy THREE = RetryPolicy.builder().maxAttempts(3).baseDelay(Duration.ofMillis(500))
            .maxDelay(Duration.ofSeconds(8)).jitter(false).build();
    private final ScriptFetcher fetcher = ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(THREE)
            .build();

    @AfterEach
    void stop() {
        fetcher.close();
        server.close();
    }

    private static String sha(String algorithm, byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(data));
    }

    private List<Path> leftovers() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".part")).toList();
        }
    }

    @Test
    void fetch_placesTheFileWithMode0700AndItsSha256() throws Exception {
        server.file("/scriptserver/c.sh", SCRIPT);
        FetchResult r = fetcher.fetch(FetchRequest.builder(server.url("/scriptserver/c.sh"), dir, "c.sh").build());

        assertThat(r.path()).isEqualTo(dir.resolve("c.sh"));
        assertThat(Files.readAllBytes(r.path())).isEqualTo(SCRIPT);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(r.path()))).isEqualTo("rwx------");
        assertThat(r.sha256()).isEqualTo(sha("SHA-256", SCRIPT));
        assertThat(r.size()).isEqualTo(SCRIPT.length);
        assertThat(r.trust()).isEqualTo(Trust.NONE);
        assertThat(r.attempts()).isEqualTo(1);
        assertThat(leftovers()).isEmpty();
    }

    @Test
    void matchingPin_isTrustedAsPin() throws Exception {
        server.file("/c.sh", SCRIPT);
        Digest pin = new Digest(DigestAlgorithm.SHA512, sha("SHA-512", SCRIPT));
        FetchResult r = fetcher.fetch(FetchRequest.builder(server.url("/c.sh"), dir, "c.sh").digest(Optional.of(pin))
                .build());
        assertThat(r.trust()).isEqualTo(Trust.PIN);
    }

    @Test
    void mismatchedPin_isRefusedAndTheOldFileIsUntouched() throws Exception {
        Files.writeString(dir.resolve("c.sh"), "old");
        server.file("/c.sh", SCRIPT);
        Digest pin = new Digest(DigestAlgorithm.SHA256, "0".repeat(64));
        String actual = sha("SHA-256", SCRIPT);

        assertThatThrownBy(() -> fetcher.fetch(FetchRequest.builder(server.url("/c.sh"), dir, "c.sh")
                .digest(Optional.of(pin)).build()))
                .isInstanceOfSatisfying(IntegrityException.class, e -> {
                    assertThat(e.reason()).isEqualTo(RefusalReason.PIN_MISMATCH);
                    assertThat(e.failure()).isEqualTo(FetchFailure.REFUSED);
                    assertThat(e.attempts()).isEqualTo(1);
                    assertThat(e.expected()).isEqualTo(pin);
                    assertThat(e.actual().hex()).isEqualTo(actual);
                    assertThat(e.getMessage()).startsWith("refused " + server.url("/c.sh") + ": its sha256 is ");
                });
        assertThat(Files.readString(dir.resolve("c.sh"))).isEqualTo("old");
        assertThat(leftovers()).isEmpty();
        assertThat(server.hits.get()).isEqualTo(1); // a wrong file is not fetched again
    }

    @Test
    void firstMirrorMissing_secondServes() {
        server.file("/b/c.sh", SCRIPT);
        FetchResult r = fetcher.fetch(FetchRequest.builder(server.url("/a/c.sh"), dir, "c.sh")
                .mirrors(List.of(server.url("/b/c.sh"))).build());
        assertThat(r.source()).isEqualTo(server.url("/b/c.sh"));
        assertThat(sleeps).isEmpty(); // 404 is not retried
    }

    @Test
    void serverErrors_areRetriedWithBackoff() throws Exception {
        server.file("/c.sh", SCRIPT).failOnce("/c.sh", 503).failOnce("/c.sh", 500);
        FetchResult r = fetcher.fetch(FetchRequest.builder(server.url("/c.sh"), dir, "c.sh").build());
        assertThat(Files.readAllBytes(r.path())).isEqualTo(SCRIPT);
        assertThat(sleeps).containsExactly(Duration.ofMillis(500), Duration.ofSeconds(1));
        assertThat(r.attempts()).isEqualTo(3);
    }

    @Test
    void theJitter_isDrawnFromTheInjectedRandomness() throws Exception {
        server.file("/c.sh", SCRIPT).failOnce("/c.sh", 503).failOnce("/c.sh", 500);
        try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep)
                .random(FixedRandom.drawing(0.25)).retryPolicy(THREE.toBuilder().jitter(true).build()).build()) {
            FetchResult r = f.fetch(FetchRequest.builder(server.url("/c.sh"), dir, "c.sh").build());
            assertThat(r.attempts()).isEqualTo(3);
        }
        assertThat(sleeps).containsExactly(Duration.ofMillis(125), Duration.ofMillis(250)); // ¼ of 500 ms, of 1 s
    }

    @Test
    void tooLarge_isRefusedAndNothingIsLeftBehind() throws Exception {
        server.file("/big.sh", new byte[4096]);
        assertThatThrownBy(() -> fetcher.fetch(FetchRequest.builder(server.url("/big.sh"), dir, "big.sh")
                .maxBytes(1000).build()))
                .isInstanceOfSatisfying(FetchException.class, e -> {
                    assertThat(e.failure()).isEqualTo(FetchFailure.TOO_LARGE);
                    assertThat(e).isNotInstanceOf(FetchRefusedException.class);
                })
                .hasMessageContaining("4096 bytes, larger than the 1000-byte limit");
        assertThat(sleeps).isEmpty(); // the same file will not be smaller on the next try
        assertThat(dir.resolve("big.sh")).doesNotExist();
        assertThat(leftovers()).isEmpty();
    }

    @Test
    void missingEverywhere_namesEveryUrlTried() {
        URI a = server.url("/scriptserver/missing.pl");
        assertThatThrownBy(() -> fetcher.fetch(FetchRequest.builder(a, dir, "missing.pl").build()))
                .isInstanceOfSatisfying(FetchException.class, e -> {
                    assertThat(e.failure()).isEqualTo(FetchFailure.NOT_FOUND);
                    assertThat(e.failures()).containsExactly(Map.entry(a, FetchFailure.NOT_FOUND));
                })
                .hasMessage("could not fetch missing.pl: tried " + a + " (HTTP 404 Not Found). Check that the file "
                        + "server is up and serves the file at that URL (or add a mirror=).");
    }

    @Test
    void serverDown_isRetriedThenReported() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        URI url = URI.create("http://127.0.0.1:" + port + "/c.sh");
        assertThatThrownBy(() -> fetcher.fetch(FetchRequest.builder(url, dir, "c.sh").build()))
                .isInstanceOfSatisfying(FetchException.class, e -> {
                    assertThat(e.attempts()).isEqualTo(3);
                    assertThat(e.failure()).isEqualTo(FetchFailure.UNREACHABLE);
                })
                .hasMessageContaining(url + " (3 attempts, last: HttpHostConnectException")
                .hasMessageEndingWith("Check that the file server is up and reachable from this machine (or add a "
                        + "mirror=); nothing ran, and the next run tries again.");
        assertThat(sleeps).containsExactly(Duration.ofMillis(500), Duration.ofSeconds(1));
    }

    @Test
    void redirect_isFollowed() throws Exception {
        server.file("/new/c.sh", SCRIPT).redirectOnce("/old/c.sh",
                URI.create(server.url("/new/c.sh").toString().replace("127.0.0.1", "localhost")));
        FetchResult r = fetcher.fetch(FetchRequest.builder(server.url("/old/c.sh"), dir, "c.sh").build());
        assertThat(Files.readAllBytes(r.path())).isEqualTo(SCRIPT);
    }

    @Test
    void theFileName_followsTheOneScriptNameRule() {
        assertThatThrownBy(() -> FetchRequest.builder(server.url("/c.sh"), dir, "../c.sh").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("fileName: \"../c.sh\" is a path; a script name is never a path. Put the script in the "
                        + "server's scriptserver directory and give its file name, or give its full URL.");
        assertThatThrownBy(() -> FetchRequest.builder(server.url("/c.sh"), dir, "with space.sh").build())
                .hasMessageContaining("may hold only letters, digits");
    }

    @Test
    void fileUrl_isCopied() throws Exception {
        Path src = Files.write(Files.createTempDirectory(dir, "src").resolve("local.sh"), SCRIPT);
        FetchResult r = fetcher.fetch(FetchRequest.builder(src.toUri(), dir, "local.sh").build());
        assertThat(Files.readAllBytes(r.path())).isEqualTo(SCRIPT);
    }
}
