package dev.whatami.server.files;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.server.ScriptServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * After a {@code PUT} has answered, every {@code GET} sees the new file whole — never the old
 * version from a content cache, never a response whose length belongs to another version — also while uploads and
 * reads run at once. And the validators that make that safe for caches and resumed downloads: strong ETags that
 * describe exactly the bytes sent, and {@code If-Range}.
 */
class UploadConsistencyTest {
    private static final String TOKEN = "Bearer upload-token-1";

    @TempDir
    Path dir;
    private Path root;
    private ScriptServer server;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() throws Exception {
        root = Files.createDirectories(dir.resolve("www"));
        server = ScriptServer.builder(root).bind("127.0.0.1").port(0).uploadToken("upload-token-1").build().start();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private int put(String name, byte[] body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(server.uri() + "/scriptserver/" + name))
                .header("Authorization", TOKEN).PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private HttpResponse<byte[]> get(String name, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.uri() + "/scriptserver/" + name));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** Version {@code n}: a recognisable body whose length changes with every version (longer, then shorter). */
    private static byte[] version(int n) {
        String head = "#!/bin/sh\n# version " + n + "\n";
        int pad = (n % 2 == 0) ? 3000 + n : 40 + n;
        return (head + "x".repeat(pad) + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void theGetAfterAPut_seesTheNewVersionWhole_everyTime() throws Exception {
        for (int n = 0; n < 40; n++) {
            assertThat(put("role.sh", version(n))).isIn(201, 204);
            HttpResponse<byte[]> r = get("role.sh");
            assertThat(r.statusCode()).as("GET after PUT of version %d", n).isEqualTo(200);
            assertThat(new String(r.body(), StandardCharsets.US_ASCII)).as("version %d", n)
                    .isEqualTo(new String(version(n), StandardCharsets.US_ASCII));
            assertThat(r.headers().firstValueAsLong("Content-Length")).hasValue(version(n).length);
        }
    }

    @Test
    void concurrentUploadsAndReads_everyResponseIsOneWholeVersion_andItsETagNamesOnlyIt() throws Exception {
        int versions = 60;
        Map<String, byte[]> known = new ConcurrentHashMap<>();
        for (int n = 0; n < versions; n++) {
            known.put(new String(version(n), StandardCharsets.US_ASCII), version(n));
        }
        assertThat(put("role.sh", version(0))).isEqualTo(201);
        AtomicBoolean writing = new AtomicBoolean(true);
        Map<String, String> bodyByEtag = new ConcurrentHashMap<>();
        List<String> problems = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(5);
        try {
            List<Future<Integer>> readers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                readers.add(pool.submit(() -> {
                    int reads = 0;
                    while (writing.get() || reads < 20) {
                        HttpResponse<byte[]> r = get("role.sh");
                        reads++;
                        String body = new String(r.body(), StandardCharsets.US_ASCII);
                        if (r.statusCode() != 200 || !known.containsKey(body)) {
                            problems.add(r.statusCode() + " with " + r.body().length + " bytes");
                            continue;
                        }
                        String etag = r.headers().firstValue("ETag").orElse("none");
                        String before = bodyByEtag.putIfAbsent(etag, body);
                        if (before != null && !before.equals(body)) {
                            problems.add("ETag " + etag + " named two different bodies");
                        }
                    }
                    return reads;
                }));
            }
            Future<?> writer = pool.submit(() -> {
                try {
                    for (int n = 1; n < versions; n++) {
                        if (put("role.sh", version(n)) != 204) {
                            problems.add("PUT of version " + n + " failed");
                        }
                        HttpResponse<byte[]> after = get("role.sh");
                        if (!new String(after.body(), StandardCharsets.US_ASCII)
                                .equals(new String(version(n), StandardCharsets.US_ASCII))) {
                            problems.add("the GET after the PUT of version " + n + " did not see it");
                        }
                    }
                } finally {
                    writing.set(false);
                }
                return null;
            });
            writer.get();
            int reads = 0;
            for (Future<Integer> f : readers) {
                reads += f.get();
            }
            assertThat(reads).isGreaterThanOrEqualTo(80);
        } finally {
            pool.shutdownNow();
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void validators_conditionalGet_andSingleRanges_stillWork_withStrongContentETags() throws Exception {
        put("c.sh", "echo one\n".getBytes(StandardCharsets.US_ASCII));
        HttpResponse<byte[]> first = get("c.sh");
        String etag = first.headers().firstValue("ETag").orElseThrow();
        assertThat(etag).matches("\"[0-9a-f]{32}\""); // strong, from the bytes
        // a cache in front may keep it, but must revalidate before every use
        assertThat(first.headers().firstValue("Cache-Control")).hasValue("no-cache");
        assertThat(first.headers().firstValue("Last-Modified")).isPresent();
        assertThat(get("c.sh", "If-None-Match", etag).statusCode()).isEqualTo(304);
        assertThat(get("c.sh", "If-Modified-Since", first.headers().firstValue("Last-Modified").orElseThrow())
                .statusCode()).isEqualTo(304);
        HttpResponse<byte[]> part = get("c.sh", "Range", "bytes=5-7");
        assertThat(part.statusCode()).isEqualTo(206);
        assertThat(new String(part.body(), StandardCharsets.US_ASCII)).isEqualTo("one");
        assertThat(part.headers().firstValue("Content-Range")).hasValue("bytes 5-7/9");

        // the same bytes on another server (or after a restart) have the same ETag; other bytes never do
        put("d.sh", "echo one\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(get("d.sh").headers().firstValue("ETag")).hasValue(etag);
        put("c.sh", "echo two\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(get("c.sh", "If-None-Match", etag).statusCode()).isEqualTo(200);
    }

    @Test
    void ifRange_servesTheRangeOnlyForTheCurrentVersion_neverASplice() throws Exception {
        put("r.sh", "0123456789".getBytes(StandardCharsets.US_ASCII));
        String v1 = get("r.sh").headers().firstValue("ETag").orElseThrow();
        HttpResponse<byte[]> same = get("r.sh", "Range", "bytes=4-", "If-Range", v1);
        assertThat(same.statusCode()).isEqualTo(206);
        assertThat(new String(same.body(), StandardCharsets.US_ASCII)).isEqualTo("456789");

        put("r.sh", "abcdefghij".getBytes(StandardCharsets.US_ASCII));
        HttpResponse<byte[]> changed = get("r.sh", "Range", "bytes=4-", "If-Range", v1);
        assertThat(changed.statusCode()).isEqualTo(200);
        assertThat(new String(changed.body(), StandardCharsets.US_ASCII)).isEqualTo("abcdefghij");

        String v2 = get("r.sh").headers().firstValue("ETag").orElseThrow();
        assertThat(get("r.sh", "Range", "bytes=4-", "If-Range", "W/" + v2).statusCode()).as("weak").isEqualTo(200);

        // a date is a strong validator only for a file that has not changed for a while (RFC 9110 8.8.2.2)
        String fresh = get("r.sh").headers().firstValue("Last-Modified").orElseThrow();
        assertThat(get("r.sh", "Range", "bytes=4-", "If-Range", fresh).statusCode()).isEqualTo(200);
        Files.setLastModifiedTime(root.resolve("r.sh"), FileTime.from(Instant.now().minusSeconds(3600)));
        String old = get("r.sh").headers().firstValue("Last-Modified").orElseThrow();
        HttpResponse<byte[]> byDate = get("r.sh", "Range", "bytes=4-", "If-Range", old);
        assertThat(byDate.statusCode()).isEqualTo(206);
        assertThat(new String(byDate.body(), StandardCharsets.US_ASCII)).isEqualTo("efghij");
    }

    @Test
    void severalRanges_getTheWholeFile() throws Exception {
        put("m.sh", "0123456789".getBytes(StandardCharsets.US_ASCII));
        HttpResponse<byte[]> r = get("m.sh", "Range", "bytes=0-1,5-6");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(new String(r.body(), StandardCharsets.US_ASCII)).isEqualTo("0123456789");
    }

    @Test
    void largeFiles_areStreamed_withRangesAndValidators_andAReplacementIsSeen() throws Exception {
        byte[] big = new byte[(int) ScriptFiles.MAX_SNAPSHOT_FILE + 1000];
        new Random(3).nextBytes(big);
        Files.write(root.resolve("big.bin"), big);
        HttpResponse<byte[]> r = get("big.bin");
        assertThat(r.body()).isEqualTo(big);
        String etag = r.headers().firstValue("ETag").orElseThrow();
        assertThat(etag).startsWith("\"");
        HttpResponse<byte[]> cond = get("big.bin", "If-None-Match", etag);
        assertThat(cond.statusCode()).as(etag + " then " + cond.headers().map()).isEqualTo(304);
        HttpResponse<byte[]> part = get("big.bin", "Range", "bytes=100-199", "If-Range", etag);
        assertThat(part.statusCode()).isEqualTo(206);
        assertThat(part.body()).isEqualTo(java.util.Arrays.copyOfRange(big, 100, 200));

        byte[] big2 = java.util.Arrays.copyOf(big, big.length - 10);
        big2[0] ^= 1;
        assertThat(put("big.bin", big2)).isEqualTo(204);
        HttpResponse<byte[]> again = get("big.bin");
        assertThat(again.body()).isEqualTo(big2);
        assertThat(again.headers().firstValue("ETag")).isNotEqualTo(java.util.Optional.of(etag));
    }

    @Test
    void aFileChangedOnDiskBehindTheServersBack_isSeenAtTheNextRequest() throws Exception {
        Files.writeString(root.resolve("e.sh"), "echo a\n");
        assertThat(new String(get("e.sh").body(), StandardCharsets.US_ASCII)).isEqualTo("echo a\n");
        Path tmp = root.resolve(".e.tmp");
        Files.writeString(tmp, "echo bb\n");
        Files.move(tmp, root.resolve("e.sh"), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThat(new String(get("e.sh").body(), StandardCharsets.US_ASCII)).isEqualTo("echo bb\n");
        Files.delete(root.resolve("e.sh"));
        assertThat(get("e.sh").statusCode()).isEqualTo(404);
    }
}
