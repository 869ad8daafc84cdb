package dev.whatami.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.testsupport.FakeTime;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** EC2's request rules and answer shapes, spoken to as a client would. */
class Ec2EmulationTest {
    private static final String TTL = "X-aws-ec2-metadata-token-ttl-seconds";
    private static final String TOKEN = "X-aws-ec2-metadata-token";
    private final FakeTime clock = new FakeTime();

    private static String token(URI e, int ttl) throws Exception {
        HttpResponse<String> r = Http.send(e, "PUT", "/latest/api/token", TTL, Integer.toString(ttl));
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    @Test
    void token_isPutOnly_withATtlOf1To21600_andNotThroughAProxy() throws Exception {
        try (MetadataEmulator imds = MetadataEmulator.builder().start()) {
            URI e = imds.endpoint();
            assertThat(Http.get(e, "/latest/api/token").statusCode()).isEqualTo(405);
            assertThat(Http.send(e, "PUT", "/latest/api/token").statusCode()).isEqualTo(400);
            assertThat(Http.send(e, "PUT", "/latest/api/token", TTL, "0").statusCode()).isEqualTo(400);
            assertThat(Http.send(e, "PUT", "/latest/api/token", TTL, "21601").statusCode()).isEqualTo(400);
            assertThat(Http.send(e, "PUT", "/latest/api/token", TTL, "ten").statusCode()).isEqualTo(400);
            assertThat(Http.send(e, "PUT", "/latest/api/token", TTL, "60", "X-Forwarded-For", "10.0.0.9")
                    .statusCode()).isEqualTo(403);
            HttpResponse<String> ok = Http.send(e, "PUT", "/latest/api/token", TTL, "21600");
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ok.body()).hasSizeGreaterThan(40).doesNotContain("\n");
            assertThat(ok.headers().firstValue(TTL)).hasValue("21600");
            assertThat(ok.headers().firstValue("Server")).hasValue("EC2ws");
        }
    }

    @Test
    void v2Required_refusesMissingForgedAndExpiredTokens() throws Exception {
        try (MetadataEmulator imds = MetadataEmulator.builder().userData("u").imdsV2Required(true).clock(clock)
                .start()) {
            URI e = imds.endpoint();
            assertThat(Http.get(e, "/latest/user-data").statusCode()).isEqualTo(401);
            assertThat(Http.get(e, "/latest/user-data").body()).contains("<title>401 - Unauthorized</title>");
            assertThat(Http.get(e, "/latest/user-data", TOKEN, "forged").statusCode()).isEqualTo(401);
            String t = token(e, 60);
            HttpResponse<String> r = Http.get(e, "/latest/user-data", TOKEN, t);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("u");
            assertThat(r.headers().firstValue(TTL)).hasValue("60");
            clock.advance(Duration.ofSeconds(60));
            assertThat(Http.get(e, "/latest/user-data", TOKEN, t).statusCode()).isEqualTo(401);
        }
    }

    @Test
    void v2Optional_stillRefusesABadToken() throws Exception {
        try (MetadataEmulator imds = MetadataEmulator.builder().userData("u").start()) {
            assertThat(Http.get(imds.endpoint(), "/latest/user-data").body()).isEqualTo("u");
            assertThat(Http.get(imds.endpoint(), "/latest/user-data", TOKEN, "nope").statusCode()).isEqualTo(401);
        }
    }

    @Test
    void metaDataTree_identityDocument_andNoUserData() throws Exception {
        try (MetadataEmulator imds = MetadataEmulator.builder().instanceId("i-42").availabilityZone("eu-west-1b")
                .start()) {
            URI e = imds.endpoint();
            assertThat(Http.get(e, "/latest/user-data").statusCode()).isEqualTo(404);
            assertThat(Http.get(e, "/latest/").body()).isEqualTo("dynamic\nmeta-data");
            assertThat(Http.get(e, "/latest/meta-data/").body()).isEqualTo(
                    "ami-id\nhostname\ninstance-id\ninstance-type\nlocal-hostname\nlocal-ipv4\nplacement/");
            assertThat(Http.get(e, "/latest/meta-data/instance-id").body()).isEqualTo("i-42");
            assertThat(Http.get(e, "/latest/meta-data/placement/availability-zone").body()).isEqualTo("eu-west-1b");
            assertThat(Http.get(e, "/latest/meta-data/placement/region").body()).isEqualTo("eu-west-1");
            assertThat(Http.get(e, "/latest/meta-data/iam/").statusCode()).isEqualTo(404);
            assertThat(Http.get(e, "/latest/meta-data/nothing").statusCode()).isEqualTo(404);
            assertThat(Http.send(e, "POST", "/latest/meta-data/").statusCode()).isEqualTo(405);
            String doc = Http.get(e, "/latest/dynamic/instance-identity/document").body();
            assertThat(doc).startsWith("{\n  \"accountId\" : \"123456789012\",\n")
                    .contains("\"instanceId\" : \"i-42\"").contains("\"region\" : \"eu-west-1\"")
                    .contains("\"availabilityZone\" : \"eu-west-1b\"").contains("\"billingProducts\" : null")
                    .endsWith("\n}");
        }
    }

    @Test
    void instanceIdPerClient_givesEachAddressItsOwnId() throws Exception {
        try (MetadataEmulator imds = MetadataEmulator.builder().instanceId("i-fleet").instanceIdPerClient(true)
                .start()) {
            assertThat(Http.get(imds.endpoint(), "/latest/meta-data/instance-id").body())
                    .isEqualTo("i-fleet-127-0-0-1");
        }
    }

    @Test
    void roleCredentials_areListedServedAndRenewedBeforeTheyExpire() throws Exception {
        try (MetadataEmulator imds = MetadataEmulator.builder().ec2Role("whatami-role").clock(clock)
                .credentialsLifetime(Duration.ofHours(1)).start()) {
            URI e = imds.endpoint();
            assertThat(Http.get(e, "/latest/meta-data/").body()).contains("\niam/\n");
            assertThat(Http.get(e, "/latest/meta-data/iam/").body()).isEqualTo("info\nsecurity-credentials/");
            assertThat(Http.get(e, "/latest/meta-data/iam/security-credentials/").body()).isEqualTo("whatami-role");
            assertThat(Http.get(e, "/latest/meta-data/iam/info").body())
                    .contains("\"InstanceProfileArn\" : \"arn:aws:iam::123456789012:instance-profile/whatami-role\"");
            assertThat(Http.get(e, "/latest/meta-data/iam/security-credentials/other").statusCode()).isEqualTo(404);

            String first = Http.get(e, "/latest/meta-data/iam/security-credentials/whatami-role").body();
            IssuedCredentials c1 = imds.ec2Credentials().orElseThrow();
            assertThat(first).startsWith("{\n  \"Code\" : \"Success\",\n")
                    .contains("\"Type\" : \"AWS-HMAC\"")
                    .contains("\"AccessKeyId\" : \"" + c1.accessKeyId() + "\"")
                    .contains("\"SecretAccessKey\" : \"" + c1.secretAccessKey() + "\"")
                    .contains("\"Token\" : \"" + c1.sessionToken() + "\"")
                    .contains("\"Expiration\" : \"2026-01-01T01:00:00Z\"");
            assertThat(c1.accessKeyId()).matches("ASIA[A-Z2-7]{16}");
            assertThat(c1.toString()).doesNotContain(c1.secretAccessKey()).doesNotContain(c1.sessionToken());

            clock.advance(Duration.ofMinutes(54)); // 6 min left: the same (renewal starts 5 min before)
            assertThat(imds.ec2Credentials()).contains(c1);
            clock.advance(Duration.ofMinutes(2)); // 4 min left: inside the margin, new ones
            String second = Http.get(e, "/latest/meta-data/iam/security-credentials/whatami-role").body();
            IssuedCredentials c2 = imds.ec2Credentials().orElseThrow();
            assertThat(c2.accessKeyId()).isNotEqualTo(c1.accessKeyId());
            assertThat(c2.expiration()).isEqualTo(Instant.parse("2026-01-01T01:56:00Z"));
            assertThat(second).contains("\"Expiration\" : \"2026-01-01T01:56:00Z\"");
        }
    }

    @Test
    void headRequests_getTheHeadOnly() throws Exception {
        try (MetadataEmulator imds = MetadataEmulator.builder().userData("12345").start()) {
            Http.Raw r = Http.raw(imds, "HEAD /latest/user-data HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                    1 << 16, Duration.ofSeconds(5));
            assertThat(r.text()).startsWith("HTTP/1.1 200 OK\r\n").contains("Content-Length: 5\r\n").endsWith("\r\n\r\n");
        }
    }
}
