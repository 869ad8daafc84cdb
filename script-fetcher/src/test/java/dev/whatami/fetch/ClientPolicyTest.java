package dev.whatami.fetch;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.testsupport.FakeTime;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fetcher's policies hold on any client: it follows redirects itself (at most 5, http(s) only) and never asks for
 * or decodes a content coding — also on a caller's client whose defaults follow 50 redirects and decompress gzip.
 */
class ClientPolicyTest {
    private static final byte[] SCRIPT = "#!/bin/sh\necho policy\n".getBytes(UTF_8);

    @TempDir
    Path dir;
    private final FileServer server = new FileServer();
    private final FakeTime time = new FakeTime();
    private final CloseableHttpClient defaults = HttpClients.createDefault(); // redirects on, decompression on

    @AfterEach
    void stop() throws Exception {
        defaults.close();
        server.close();
    }

    private ScriptFetcher fetcher(boolean callersClient) {
        ScriptFetcher.Builder b = ScriptFetcher.builder().clock(time).sleeper(time::sleep)
                .retryPolicy(ScriptFetcherTest.THREE);
        return (callersClient ? b.httpClient(defaults) : b).build();
    }

    private void chain(int hops) {
        for (int i = 0; i < hops; i++) {
            server.redirectOnce("/r" + i + ".sh", server.url("/r" + (i + 1) + ".sh"));
        }
        server.file("/r" + hops + ".sh", SCRIPT);
    }

    @Test
    void fiveRedirects_areFollowed_onTheCallersClientToo() throws Exception {
        chain(5);
        try (ScriptFetcher f = fetcher(true)) {
            FetchResult r = f.fetch(FetchRequest.builder(server.url("/r0.sh"), dir, "c.sh").build());
            assertThat(Files.readAllBytes(r.path())).isEqualTo(SCRIPT);
            assertThat(r.source()).isEqualTo(server.url("/r0.sh")); // the URL asked for, whatever it redirected to
        }
    }

    @Test
    void aSixthRedirect_isNotFollowed_evenByAClientThatWouldFollowFifty() {
        chain(6);
        try (ScriptFetcher f = fetcher(true)) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(server.url("/r0.sh"), dir, "c.sh").build()))
                    .isInstanceOfSatisfying(FetchException.class,
                            e -> assertThat(e.failure()).isEqualTo(FetchFailure.BAD_RESPONSE))
                    .hasMessageContaining("more than 5 redirects (the last to " + server.url("/r6.sh") + ")");
        }
        assertThat(server.hits("/r6.sh")).isZero();
        assertThat(time.sleeps()).isEmpty(); // the same server will redirect the same way
    }

    @Test
    void aRedirectToAnotherScheme_isRefusedByPolicy() {
        server.redirectOnce("/c.sh", URI.create("ftp://127.0.0.1/c.sh"));
        try (ScriptFetcher f = fetcher(true)) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(server.url("/c.sh"), dir, "c.sh").build()))
                    .isInstanceOfSatisfying(FetchRefusedException.class,
                            e -> assertThat(e.reason()).isEqualTo(RefusalReason.POLICY))
                    .hasMessageContaining("it redirects to ftp://127.0.0.1/c.sh, and only http and https redirects "
                            + "are followed");
        }
    }

    private static byte[] gzip(byte[] data) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    private void gzipUnasked() throws Exception {
        byte[] body = gzip(SCRIPT);
        server.always("/c.sh", ex -> FileServer.respond(ex, 200, body, Map.of("Content-Encoding", "gzip")));
    }

    @Test
    void unaskedGzip_isNotStoredAsTheScript() throws Exception {
        gzipUnasked();
        try (ScriptFetcher f = fetcher(false)) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(server.url("/c.sh"), dir, "c.sh").build()))
                    .isInstanceOfSatisfying(FetchException.class,
                            e -> assertThat(e.failure()).isEqualTo(FetchFailure.BAD_RESPONSE))
                    .hasMessageContaining("the server compressed it unasked (Content-Encoding: gzip; the request "
                            + "said Accept-Encoding: identity)");
        }
        assertThat(dir.resolve("c.sh")).doesNotExist();
        assertThat(server.acceptEncodings).containsExactly("identity");
    }

    @Test
    void unaskedGzip_onTheCallersDecompressingClient_isNotDecodedEither() throws Exception {
        gzipUnasked();
        try (ScriptFetcher f = fetcher(true)) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(server.url("/c.sh"), dir, "c.sh").build()))
                    .isInstanceOfSatisfying(FetchException.class,
                            e -> assertThat(e.failure()).isEqualTo(FetchFailure.BAD_RESPONSE))
                    .hasMessageContaining("compressed it unasked");
        }
        assertThat(dir.resolve("c.sh")).doesNotExist();
        assertThat(server.acceptEncodings).containsExactly("identity");
    }

    @Test
    void caBundleWithACallersClient_isRefusedAtBuild() throws Exception {
        Path bundle = Files.writeString(dir.resolve("ca.pem"), "x");
        assertThatThrownBy(() -> ScriptFetcher.builder().caBundle(bundle).httpClient(defaults).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("caBundle(...) cannot apply to a client given with httpClient(...): the fetcher cannot "
                        + "change the trust store of a client it did not build. Build that client with the CA bundle "
                        + "(HttpClientFactory.builder().caBundle(...)), or drop httpClient(...) and let the fetcher "
                        + "build one.");
    }

    @Test
    void aCallersClient_isNotClosedByTheFetcher() throws Exception {
        server.file("/c.sh", SCRIPT);
        fetcher(true).close();
        try (ScriptFetcher f = fetcher(true)) {
            assertThat(f.fetch(FetchRequest.builder(server.url("/c.sh"), dir, "c.sh").build()).size())
                    .isEqualTo(SCRIPT.length);
        }
    }
}
