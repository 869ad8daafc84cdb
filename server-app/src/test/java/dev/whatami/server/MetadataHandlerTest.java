package dev.whatami.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.emulator.Cloud;
import dev.whatami.emulator.Faults;
import dev.whatami.emulator.MetadataService;
import dev.whatami.metadata.InstanceIdentity;
import dev.whatami.metadata.MetadataClient;
import dev.whatami.metadata.Provider;
import dev.whatami.metadata.RetryPolicy;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A {@link MetadataService} mounted in the server: its answers, headers and faults through Jetty. */
class MetadataHandlerTest {
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

    private URI serve(MetadataService service) throws Exception {
        Path root = Files.createDirectories(dir.resolve("www"));
        Files.writeString(root.resolve("a.sh"), "echo a\n");
        ScriptServer.Builder b = ScriptServer.builder(root).bind("127.0.0.1").port(0);
        if (service != null) {
            b.metadataService(service);
        }
        server = b.build().start();
        return server.uri();
    }

    private HttpResponse<String> send(URI base, String method, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void v2Required_tokensAndTheirHeadersPassThroughJetty() throws Exception {
        URI e = serve(MetadataService.builder().userData("u").imdsV2Required(true).build());
        assertThat(send(e, "GET", "/latest/user-data").statusCode()).isEqualTo(401);
        assertThat(send(e, "GET", "/latest/api/token").statusCode()).isEqualTo(405);
        HttpResponse<String> token = send(e, "PUT", "/latest/api/token", "X-aws-ec2-metadata-token-ttl-seconds", "60");
        assertThat(token.statusCode()).isEqualTo(200);
        assertThat(token.headers().firstValue("X-aws-ec2-metadata-token-ttl-seconds")).hasValue("60");
        HttpResponse<String> r = send(e, "GET", "/latest/user-data", "X-aws-ec2-metadata-token", token.body());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("u");
        assertThat(r.headers().firstValueAsLong("Content-Length")).hasValue(1);
    }

    /** The cross-check: our client against the server's emulator, v2 optional and required. */
    @Test
    void metadataClient_readsTheServer_withV2OptionalAndRequired() throws Exception {
        for (boolean required : new boolean[] {false, true}) {
            URI e = serve(MetadataService.builder().userData("collector.pl 10.0.0.1").instanceId("i-cross")
                    .imdsV2Required(required).build());
            try (MetadataClient client = MetadataClient.builder().endpoint(e).imdsV2Required(required)
                    .retryPolicy(RetryPolicy.none()).build()) {
                assertThat(new String(client.userData().orElseThrow(), StandardCharsets.UTF_8))
                        .isEqualTo("collector.pl 10.0.0.1");
                assertThat(client.identity()).isEqualTo(new InstanceIdentity("i-cross", Provider.EC2,
                        Optional.of("us-east-1"), Optional.of("us-east-1a")));
            }
            server.close();
            server = null;
        }
    }

    /** Any cloud the service plays, headers and all; every other path is still the server's. */
    @Test
    void anyCloud_besideTheScripts() throws Exception {
        URI e = serve(MetadataService.builder().clouds(Cloud.GCE).userData("g").build());
        HttpResponse<String> r = send(e, "GET", "/computeMetadata/v1/instance/attributes/user-data",
                "Metadata-Flavor", "Google");
        assertThat(r.body()).isEqualTo("g");
        assertThat(r.headers().firstValue("Metadata-Flavor")).hasValue("Google");
        assertThat(send(e, "GET", "/latest/user-data").statusCode()).isEqualTo(404); // not played
        assertThat(send(e, "GET", "/scriptserver/a.sh").body()).isEqualTo("echo a\n");
        assertThat(send(e, "GET", "/healthz").body()).isEqualTo("ok\n");
    }

    @Test
    void withoutAService_theMetadataPathsAreNotAnswered() throws Exception {
        URI e = serve(null);
        assertThat(send(e, "PUT", "/latest/api/token", "X-aws-ec2-metadata-token-ttl-seconds", "60").statusCode())
                .isEqualTo(404);
        assertThat(send(e, "GET", "/latest/meta-data/instance-id").statusCode()).isEqualTo(404);
    }

    private static String raw(URI endpoint, String request) throws Exception {
        try (Socket s = new Socket(endpoint.getHost(), endpoint.getPort())) {
            s.setSoTimeout(15_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = in.read(buf)) >= 0 && got.size() < (1 << 20); ) {
                    got.write(buf, 0, n);
                }
            } catch (java.io.IOException e) {
                // reset or timeout: what the fault is for
            }
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }

    /** Faults through Jetty: the same answers as the test artifact's, and not one stack trace in the server's log. */
    @Test
    void faults_throughJetty_areQuiet() throws Exception {
        MetadataService emulator = MetadataService.builder().userData("0123456789").build();
        PrintStream saved = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        String get = "GET /latest/user-data HTTP/1.1\r\nHost: x\r\n\r\n";
        String dropped;
        String endless;
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
        try {
            URI e = serve(emulator);
            emulator.faults().dropNext(1);
            dropped = raw(e, get);
            emulator.faults().endlessBodyNext(1);
            endless = raw(e, get);
            emulator.faults().forPath("/latest/api/token").hangNext(Faults.ALWAYS);
            CompletableFuture<String> held = CompletableFuture.supplyAsync(() -> {
                try {
                    return raw(e, "PUT /latest/api/token HTTP/1.1\r\nHost: x\r\n"
                            + "X-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n");
                } catch (Exception x) {
                    throw new IllegalStateException(x);
                }
            });
            awaitRequest(emulator, "PUT", "/latest/api/token");
            server.close();
            server = null;
            held.get(15, TimeUnit.SECONDS);
        } finally {
            System.setErr(saved);
        }
        assertThat(dropped).startsWith("HTTP/1.1 200 OK").contains("Content-Length: 10").endsWith("\r\n\r\n01234");
        assertThat(endless).contains("Transfer-Encoding: chunked").hasSizeGreaterThan(1 << 19);
        String text = log.toString(StandardCharsets.UTF_8);
        assertThat(text).doesNotContain("Exception").doesNotContain("\tat ");
    }

    /**
     * Stopping the server releases a request a fault holds at once, instead of waiting out the 10 s the server gives
     * downloads in flight.
     */
    @Test
    void stopping_releasesARequestAFaultHolds() throws Exception {
        MetadataService emulator = MetadataService.builder().userData("u").build();
        URI e = serve(emulator);
        emulator.faults().hangNext(Faults.ALWAYS);
        CompletableFuture<String> held = CompletableFuture.supplyAsync(() -> {
            try {
                return raw(e, "GET /latest/user-data HTTP/1.1\r\nHost: x\r\n\r\n");
            } catch (Exception x) {
                throw new IllegalStateException(x);
            }
        });
        awaitRequest(emulator, "GET", "/latest/user-data");
        long start = System.nanoTime();
        server.close();
        server = null;
        Duration stopping = Duration.ofNanos(System.nanoTime() - start);
        assertThat(held.get(15, TimeUnit.SECONDS)).doesNotContain("200 OK");
        assertThat(stopping).isLessThan(Duration.ofSeconds(5));
    }

    /** Waits until the service has seen the request (and so holds it). */
    private static void awaitRequest(MetadataService service, String method, String path) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (service.requestCount(method, path) == 0) {
            assertThat(System.nanoTime()).as("the request reached the emulator").isLessThan(deadline);
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
