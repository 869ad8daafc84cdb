package dev.whatami.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.metadata.InstanceIdentity;
import dev.whatami.metadata.MetadataClient;
import dev.whatami.metadata.MetadataRefusedException;
import dev.whatami.metadata.Provider;
import dev.whatami.metadata.RetryPolicy;
import dev.whatami.emulator.Cloud;
import dev.whatami.emulator.Faults;
import dev.whatami.emulator.MetadataService;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MetadataEmulatorTest {
    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> send(URI base, String method, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void token_isPutOnlyAndItsTtlIsChecked() throws Exception {
        try (MetadataEmulator.Running imds = MetadataEmulator.builder().build().start()) {
            URI e = imds.endpoint();
            assertThat(send(e, "GET", "/latest/api/token").statusCode()).isEqualTo(405);
            assertThat(send(e, "PUT", "/latest/api/token").statusCode()).isEqualTo(400);
            assertThat(send(e, "PUT", "/latest/api/token", "X-aws-ec2-metadata-token-ttl-seconds", "0").statusCode())
                    .isEqualTo(400);
            assertThat(send(e, "PUT", "/latest/api/token", "X-aws-ec2-metadata-token-ttl-seconds", "21601")
                    .statusCode()).isEqualTo(400);
            HttpResponse<String> ok = send(e, "PUT", "/latest/api/token", "X-aws-ec2-metadata-token-ttl-seconds", "60");
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ok.body()).hasSizeGreaterThan(20);
            assertThat(ok.headers().firstValue("X-aws-ec2-metadata-token-ttl-seconds")).hasValue("60");
        }
    }

    @Test
    void v2Required_refusesRequestsWithoutAValidToken() throws Exception {
        try (MetadataEmulator.Running imds = MetadataEmulator.builder().userData("u").imdsV2Required(true).build()
                .start()) {
            URI e = imds.endpoint();
            assertThat(send(e, "GET", "/latest/user-data").statusCode()).isEqualTo(401);
            assertThat(send(e, "GET", "/latest/user-data", "X-aws-ec2-metadata-token", "forged").statusCode())
                    .isEqualTo(401);
            String token = send(e, "PUT", "/latest/api/token", "X-aws-ec2-metadata-token-ttl-seconds", "60").body();
            HttpResponse<String> r = send(e, "GET", "/latest/user-data", "X-aws-ec2-metadata-token", token);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("u");
        }
    }

    @Test
    void noUserData_is404_andMetaDataIsListed() throws Exception {
        try (MetadataEmulator.Running imds = MetadataEmulator.builder().instanceId("i-42").build().start()) {
            URI e = imds.endpoint();
            assertThat(send(e, "GET", "/latest/user-data").statusCode()).isEqualTo(404);
            assertThat(send(e, "GET", "/latest/meta-data/").body()).contains("instance-id\n");
            assertThat(send(e, "GET", "/latest/meta-data/instance-id").body()).isEqualTo("i-42");
            assertThat(send(e, "GET", "/latest/dynamic/instance-identity/document").body())
                    .contains("\"instanceId\" : \"i-42\"").contains("\"region\" : \"us-east-1\"");
        }
    }

    /** The cross-check: our client against our emulator, v2 optional and required. */
    @Test
    void metadataClient_readsTheEmulator_withV2OptionalAndRequired() {
        for (boolean required : new boolean[] {false, true}) {
            try (MetadataEmulator.Running imds = MetadataEmulator.builder().userData("collector.pl 10.0.0.1")
                    .instanceId("i-cross").imdsV2Required(required).build().start();
                 MetadataClient client = MetadataClient.builder().endpoint(imds.endpoint())
                         .imdsV2Required(required).retryPolicy(RetryPolicy.none()).build()) {
                assertThat(new String(client.userData().orElseThrow(), StandardCharsets.UTF_8))
                        .isEqualTo("collector.pl 10.0.0.1");
                assertThat(client.identity()).isEqualTo(new InstanceIdentity("i-cross", Provider.EC2,
                        Optional.of("us-east-1"), Optional.of("us-east-1a")));
            }
        }
    }

    @Test
    void clientRequiringV2_againstAnEmulatorWithoutTokens_wouldNeedAToken() {
        // an emulator behind a proxy refuses token PUTs that carry X-Forwarded-For: the client must say so
        try (MetadataEmulator.Running imds = MetadataEmulator.builder().userData("x").build().start();
             MetadataClient client = MetadataClient.builder().endpoint(URI.create(imds.endpoint() + "/nope"))
                     .imdsV2Required(true).retryPolicy(RetryPolicy.none()).build()) {
            assertThatThrownBy(client::userData).isInstanceOf(MetadataRefusedException.class)
                    .hasMessageContaining("IMDSv2 is required");
        }
    }

    /** The Jetty adapter serves any cloud the emulator plays, headers and all. */
    @Test
    void anyCloud_throughJetty() throws Exception {
        MetadataEmulator gce = MetadataEmulator.of(MetadataService.builder().clouds(Cloud.GCE).userData("g").build());
        try (MetadataEmulator.Running imds = gce.start()) {
            HttpResponse<String> r = send(imds.endpoint(), "GET", "/computeMetadata/v1/instance/attributes/user-data",
                    "Metadata-Flavor", "Google");
            assertThat(r.body()).isEqualTo("g");
            assertThat(r.headers().firstValue("Metadata-Flavor")).hasValue("Google");
            assertThat(send(imds.endpoint(), "GET", "/latest/user-data").statusCode()).isEqualTo(404); // not played
        }
    }

    private static String raw(URI endpoint, String request) throws Exception {
        try (Socket s = new Socket(endpoint.getHost(), endpoint.getPort())) {
            s.setSoTimeout(3000);
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
        MetadataEmulator emulator = MetadataEmulator.builder().userData("0123456789").build();
        PrintStream saved = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        String get = "GET /latest/user-data HTTP/1.1\r\nHost: x\r\n\r\n";
        String dropped;
        String endless;
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
        try (MetadataEmulator.Running imds = emulator.start()) {
            emulator.faults().dropNext(1);
            dropped = raw(imds.endpoint(), get);
            emulator.faults().endlessBodyNext(1);
            endless = raw(imds.endpoint(), get);
            emulator.faults().forPath("/latest/api/token").hangNext(Faults.ALWAYS);
            raw(imds.endpoint(), "PUT /latest/api/token HTTP/1.1\r\nHost: x\r\n"
                    + "X-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n");
        } finally {
            System.setErr(saved);
        }
        assertThat(dropped).startsWith("HTTP/1.1 200 OK").contains("Content-Length: 10").endsWith("\r\n\r\n01234");
        assertThat(endless).contains("Transfer-Encoding: chunked").hasSizeGreaterThan(1 << 19);
        String text = log.toString(StandardCharsets.UTF_8);
        assertThat(text).doesNotContain("Exception").doesNotContain("\tat ");
    }
}
