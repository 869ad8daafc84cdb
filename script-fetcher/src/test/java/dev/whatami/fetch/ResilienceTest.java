package dev.whatami.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.testsupport.FakeTime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A flaky network costs time, not correctness. */
class ResilienceTest {
    @TempDir
    Path dir;
    private final FileServer server = new FileServer();
    private final FakeTime time = new FakeTime();
    private final byte[] big = new byte[3 << 20];

    {
        new Random(42).nextBytes(big);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private ScriptFetcher.Builder fetcher() {
        // the fake stalls after the bytes it drops (it cannot cut the socket): a short read timeout ends the stall
        return ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(ScriptFetcherTest.THREE)
                .readTimeout(Duration.ofMillis(500));
    }

    private static String sha(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @Test
    void droppedMidBody_resumesWithRangeAndIfRange_andVerifies() throws Exception {
        server.file("/big.sh", big).dropAfter("/big.sh", 1 << 20);
        try (ScriptFetcher f = fetcher().build()) {
            FetchResult r = f.fetch(FetchRequest.builder(server.url("/big.sh"), dir, "big.sh").build());
            assertThat(r.sha256()).isEqualTo(sha(big));
            assertThat(Files.readAllBytes(r.path())).isEqualTo(big);
        }
        assertThat(server.rangeRequests).containsExactly("bytes=1048576- if-range " + FileServer.etag(big));
    }

    @Test
    void weakEtag_resumesWithTheLastModifiedDate() throws Exception {
        server.weakEtags = true;
        server.file("/big.sh", big).dropAfter("/big.sh", 1 << 20);
        try (ScriptFetcher f = fetcher().build()) {
            FetchResult r = f.fetch(FetchRequest.builder(server.url("/big.sh"), dir, "big.sh").build());
            assertThat(Files.readAllBytes(r.path())).isEqualTo(big);
        }
        assertThat(server.rangeRequests).containsExactly("bytes=1048576- if-range " + FileServer.LAST_MODIFIED);
    }

    @Test
    void serverIgnoringRange_isDownloadedWholeAgain() throws Exception {
        server.honourRanges = false;
        server.file("/big.sh", big).dropAfter("/big.sh", 1 << 20);
        try (ScriptFetcher f = fetcher().build()) {
            FetchResult r = f.fetch(FetchRequest.builder(server.url("/big.sh"), dir, "big.sh").build());
            assertThat(Files.readAllBytes(r.path())).isEqualTo(big);
            assertThat(r.size()).isEqualTo(big.length);
        }
        assertThat(server.rangeRequests).hasSize(1);
    }

    @Test
    void cache_revalidatesWithIfNoneMatch_and304ReusesTheCopy() throws Exception {
        byte[] script = "echo cached\n".getBytes();
        server.file("/c.sh", script);
        try (ScriptFetcher f = fetcher().cacheDir(dir.resolve("cache")).build()) {
            f.fetch(FetchRequest.builder(server.url("/c.sh"), dir.resolve("boot1"), "c.sh").build());
            FetchResult second = f.fetch(FetchRequest.builder(server.url("/c.sh"), dir.resolve("boot2"), "c.sh").build());
            assertThat(Files.readAllBytes(second.path())).isEqualTo(script);
            assertThat(second.sha256()).isEqualTo(sha(script));
        }
        assertThat(server.conditionalRequests).containsExactly(FileServer.etag(script));
    }

    @Test
    void progress_isReported() throws Exception {
        server.file("/big.sh", big);
        List<Long> seen = new ArrayList<>();
        try (ScriptFetcher f = fetcher().listener((url, bytes, total) -> {
            seen.add(bytes);
            assertThat(total).hasValue(big.length);
        }).build()) {
            f.fetch(FetchRequest.builder(server.url("/big.sh"), dir, "big.sh").build());
        }
        assertThat(seen).isNotEmpty().isSorted();
        assertThat(seen.get(seen.size() - 1)).isLessThanOrEqualTo(big.length);
    }
}
