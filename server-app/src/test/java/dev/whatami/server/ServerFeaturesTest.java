package dev.whatami.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.whatami.metadata.MetadataClient;
import dev.whatami.metadata.MetadataUnreachableException;
import dev.whatami.metadata.RetryPolicy;
import dev.whatami.emulator.MetadataService;
import dev.whatami.server.access.TlsFiles;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Uploads, the access log, TLS with HTTP/2, emulator faults, and the real curl and wget as clients. */
class ServerFeaturesTest {
    @TempDir
    Path dir;
    private ScriptServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private Path root() throws Exception {
        return Files.createDirectories(dir.resolve("www"));
    }

    private HttpResponse<String> send(String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.uri() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void upload_withTheToken_storesAtomically_andDeleteRemoves() throws Exception {
        Path root = root();
        server = ScriptServer.builder(root).bind("127.0.0.1").port(0).uploadToken("s3cret-token").build().start();
        assertThat(send("PUT", "/scriptserver/new.sh", "echo new\n", "Authorization", "Bearer s3cret-token")
                .statusCode()).isEqualTo(201);
        assertThat(Files.readString(root.resolve("new.sh"))).isEqualTo("echo new\n");
        assertThat(send("GET", "/scriptserver/new.sh", null).body()).isEqualTo("echo new\n");
        assertThat(send("PUT", "/scriptserver/new.sh", "echo v2\n", "Authorization", "Bearer s3cret-token")
                .statusCode()).isEqualTo(204);
        assertThat(Files.readString(root.resolve("new.sh"))).isEqualTo("echo v2\n");
        assertThat(send("DELETE", "/scriptserver/new.sh", null, "Authorization", "Bearer s3cret-token")
                .statusCode()).isEqualTo(204);
        assertThat(root.resolve("new.sh")).doesNotExist();
        try (var files = Files.list(root)) {
            assertThat(files.toList()).isEmpty(); // no staging file left behind
        }
    }

    @Test
    void upload_withABadOrMissingToken_is401_andWritesNothing() throws Exception {
        Path root = root();
        server = ScriptServer.builder(root).bind("127.0.0.1").port(0).uploadToken("s3cret-token").build().start();
        assertThat(send("PUT", "/scriptserver/x.sh", "evil", "Authorization", "Bearer wrong").statusCode()).isEqualTo(401);
        assertThat(send("PUT", "/scriptserver/x.sh", "evil").statusCode()).isEqualTo(401);
        assertThat(send("PUT", "/scriptserver/..%2fx.sh", "evil", "Authorization", "Bearer s3cret-token")
                .statusCode()).isIn(400, 404);
        assertThat(send("PUT", "/scriptserver/.hidden", "evil", "Authorization", "Bearer s3cret-token")
                .statusCode()).isIn(400, 404);
        try (var files = Files.list(root)) {
            assertThat(files.toList()).isEmpty();
        }
    }

    @Test
    void upload_tooLarge_is413_andWithoutATokenUploadsAre405() throws Exception {
        server = ScriptServer.builder(root()).bind("127.0.0.1").port(0).uploadToken("s3cret-token").maxUpload(10)
                .build().start();
        assertThat(send("PUT", "/scriptserver/big.sh", "x".repeat(11), "Authorization", "Bearer s3cret-token")
                .statusCode()).isEqualTo(413);
        assertThat(dir.resolve("www/big.sh")).doesNotExist();
        server.close();
        server = ScriptServer.builder(root()).bind("127.0.0.1").port(0).build().start();
        assertThat(send("PUT", "/scriptserver/a.sh", "x").statusCode()).isEqualTo(405);
        assertThat(send("DELETE", "/scriptserver/a.sh", null).statusCode()).isEqualTo(405);
    }

    @Test
    void accessLog_isCommonLogFormat() throws Exception {
        Files.writeString(root().resolve("c.sh"), "echo\n");
        Path log = dir.resolve("access.log");
        server = ScriptServer.builder(root()).bind("127.0.0.1").port(0).accessLog(log.toString()).build().start();
        send("GET", "/scriptserver/c.sh", null);
        server.close();
        server = null;
        assertThat(Files.readString(log)).matches("(?s)127\\.0\\.0\\.1 - - \\[[^]]+] \"GET /scriptserver/c\\.sh HTTP/(1\\.1|2\\.0)\" "
                + "200 5\\s*");
    }

    @Test
    void emulatorFaults_driveTheMetadataClient() throws Exception {
        MetadataService emulator = MetadataService.builder().userData("u").build();
        server = ScriptServer.builder(root()).bind("127.0.0.1").port(0).metadataService(emulator).build().start();
        URI endpoint = server.uri();
        emulator.faults().failNext(2, 503);
        List<Duration> sleeps = new ArrayList<>();
        try (MetadataClient c = MetadataClient.builder().endpoint(endpoint).sleeper(sleeps::add)
                .tokenTimeout(Duration.ofSeconds(10)) // a loaded machine must not turn this into a v1 fallback
                .retryPolicy(RetryPolicy.builder().jitter(false).build()).build()) {
            assertThat(new String(c.userData().orElseThrow(), UTF_8)).isEqualTo("u");
        }
        assertThat(sleeps).hasSize(2);

        emulator.faults().clear().dropNext(1);
        try (MetadataClient c = MetadataClient.builder().endpoint(endpoint).sleeper(d -> { })
                .retryPolicy(RetryPolicy.builder().jitter(false).build()).build()) {
            assertThat(new String(c.userData().orElseThrow(), UTF_8)).isEqualTo("u");
        }

        // a token request that never answers: the client falls back to IMDSv1 within its token timeout
        emulator.faults().clear().forPath("/latest/api/token").hangNext(dev.whatami.emulator.Faults.ALWAYS);
        long start = System.nanoTime();
        try (MetadataClient c = MetadataClient.builder().endpoint(endpoint)
                .tokenTimeout(Duration.ofMillis(300)).build()) {
            assertThat(new String(c.userData().orElseThrow(), UTF_8)).isEqualTo("u");
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));

        emulator.faults().clear().failNext(100, 500);
        try (MetadataClient c = MetadataClient.builder().endpoint(endpoint).sleeper(d -> { })
                .retryPolicy(RetryPolicy.builder().jitter(false).maxAttempts(3).build()).build()) {
            assertThatThrownBy(c::userData).isInstanceOf(MetadataUnreachableException.class)
                    .hasMessageContaining("after 3 attempts");
        }
    }

    private static boolean have(String tool) {
        boolean present = Files.isExecutable(Path.of("/usr/bin/" + tool));
        if (!present) {
            System.err.println("SKIPPED a " + tool + " interoperability test: /usr/bin/" + tool + " is not installed");
        }
        return present;
    }

    private static String run(Path dir, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
        return out;
    }

    @Test
    void curlAndWget_getByteIdenticalFiles_rangesConditionalsAndHead() throws Exception {
        assumeTrue(have("curl") && have("wget"), "curl and wget are needed");
        byte[] data = new byte[200_000];
        new Random(7).nextBytes(data);
        Files.write(root().resolve("collector.pl"), data);
        server = ScriptServer.builder(root()).bind("127.0.0.1").port(0).build().start();
        String url = server.uri() + "/scriptserver/collector.pl";
        Path out = Files.createDirectories(dir.resolve("out"));
        run(out, "/usr/bin/curl", "-sf", "-o", "curl.bin", url);
        run(out, "/usr/bin/wget", "-q", "-O", "wget.bin", url);
        assertThat(Files.readAllBytes(out.resolve("curl.bin"))).isEqualTo(data);
        assertThat(Files.readAllBytes(out.resolve("wget.bin"))).isEqualTo(data);
        String range = run(out, "/usr/bin/curl", "-s", "-r", "100-199", "-o", "part.bin", "-w", "%{http_code}", url);
        assertThat(range).isEqualTo("206");
        assertThat(Files.readAllBytes(out.resolve("part.bin"))).isEqualTo(java.util.Arrays.copyOfRange(data, 100, 200));
        String head = run(out, "/usr/bin/curl", "-sI", url);
        assertThat(head).contains("Content-Length: 200000");
        String etag = head.lines().filter(l -> l.toLowerCase().startsWith("etag:")).findFirst().orElseThrow()
                .substring(5).strip();
        assertThat(run(out, "/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                "If-None-Match: " + etag, url)).isEqualTo("304");
    }

    @Test
    void tls_fromPemFiles_servesHttp2() throws Exception {
        assumeTrue(have("openssl") && have("curl"), "openssl and curl are needed");
        run(dir, "/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-subj", "/CN=localhost", "-addext",
                "subjectAltName=IP:127.0.0.1", "-days", "2");
        Files.writeString(root().resolve("c.sh"), "echo tls\n");
        server = ScriptServer.builder(root()).bind("127.0.0.1").port(0)
                .tls(TlsFiles.fromPem(dir.resolve("cert.pem"), dir.resolve("key.pem")), TlsFiles.PASSWORD).build()
                .start();
        assertThat(server.uri().getScheme()).isEqualTo("https");
        String out = run(dir, "/usr/bin/curl", "-s", "--http2", "--cacert", "cert.pem", "-w", " %{http_version}",
                server.uri() + "/scriptserver/c.sh");
        assertThat(out).isEqualTo("echo tls\n 2");
    }
}
