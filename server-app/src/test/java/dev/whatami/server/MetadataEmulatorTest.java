package dev.whatami.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.metadata.InstanceIdentity;
import dev.whatami.metadata.MetadataClient;
import dev.whatami.metadata.MetadataRefusedException;
import dev.whatami.metadata.Provider;
import dev.whatami.metadata.RetryPolicy;
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
}
