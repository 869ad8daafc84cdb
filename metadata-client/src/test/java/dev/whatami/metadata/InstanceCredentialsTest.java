package dev.whatami.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.emulator.Cloud;
import dev.whatami.emulator.Faults;
import dev.whatami.emulator.IssuedCredentials;
import dev.whatami.emulator.IssuedToken;
import dev.whatami.emulator.MetadataEmulator;
import dev.whatami.testsupport.FakeTime;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The instance credentials against the emulator: values, caching, renewal before expiry, absence, faults. */
class InstanceCredentialsTest {
    private static final String ROLE_PATH = "/latest/meta-data/iam/security-credentials/reader";
    private final FakeTime time = new FakeTime();

    private MetadataClient.Builder client(MetadataEmulator imds) {
        return MetadataClient.builder().endpoint(imds.endpoint()).clock(time).sleeper(time::sleep)
                .retryPolicy(RetryPolicy.builder().jitter(false).deadline(Duration.ofSeconds(5)).build());
    }

    @Test
    void ec2Role_credentials_areTheRolesCachedAndRenewedBeforeTheyExpire() {
        try (MetadataEmulator imds = MetadataEmulator.builder().ec2Role("reader").imdsV2Required(true).clock(time)
                .credentialsLifetime(Duration.ofHours(1)).start();
             MetadataClient c = client(imds).build()) {
            InstanceCredentials ids = c.instanceCredentials();
            AwsCredentials first = ids.awsCredentials().orElseThrow();
            IssuedCredentials issued = imds.ec2Credentials().orElseThrow();
            assertThat(first).isEqualTo(new AwsCredentials(issued.accessKeyId(), issued.secretAccessKey(),
                    Optional.of(issued.sessionToken()), Optional.of(Instant.parse("2026-01-01T01:00:00Z"))));
            assertThat(first.toString()).doesNotContain(issued.secretAccessKey()).doesNotContain(issued.sessionToken())
                    .contains(issued.accessKeyId());

            time.advance(Duration.ofMinutes(50)); // 10 min left: cached
            assertThat(ids.awsCredentials()).contains(first);
            assertThat(imds.requestCount("GET", ROLE_PATH)).isEqualTo(1);

            time.advance(Duration.ofMinutes(6)); // 4 min left: renewed; the emulator made new ones meanwhile
            AwsCredentials second = ids.awsCredentials().orElseThrow();
            assertThat(second.accessKeyId()).isNotEqualTo(first.accessKeyId());
            assertThat(second.expiration()).contains(Instant.parse("2026-01-01T01:56:00Z"));
            assertThat(imds.requestCount("GET", ROLE_PATH)).isEqualTo(2);
            assertThat(imds.requests()).filteredOn(r -> r.method().equals("GET"))
                    .allSatisfy(r -> assertThat(r.header("X-aws-ec2-metadata-token")).isPresent());
        }
    }

    @Test
    void ec2_withoutARole_isEmpty_andTheRegionComesFromTheIdentityDocument() {
        try (MetadataEmulator imds = MetadataEmulator.builder().availabilityZone("eu-west-1b").clock(time).start();
             MetadataClient c = client(imds).build()) {
            assertThat(c.instanceCredentials().awsCredentials()).isEmpty();
            assertThat(c.instanceCredentials().awsRegion()).contains("eu-west-1");
            assertThat(c.instanceCredentials().awsRegion()).contains("eu-west-1");
            assertThat(imds.requestCount("GET", "/latest/dynamic/instance-identity/document")).isEqualTo(1);
        }
    }

    @Test
    void ec2Disabled_givesNoCredentials_withoutAsking() {
        try (MetadataEmulator imds = MetadataEmulator.builder().ec2Role("reader").start();
             MetadataClient c = client(imds).provider(Provider.GCE).ec2Disabled(true).build()) {
            assertThat(c.instanceCredentials().awsCredentials()).isEmpty();
            assertThat(imds.requests()).isEmpty();
        }
    }

    @Test
    void faults_areRetried_orEndTheCall_andNoMessageHoldsASecret() {
        try (MetadataEmulator imds = MetadataEmulator.builder().ec2Role("reader").clock(time).start()) {
            imds.faults().forPath(ROLE_PATH).failNext(1, 503).dropNext(1);
            try (MetadataClient c = client(imds).build()) {
                assertThat(c.instanceCredentials().awsCredentials()).isPresent();
            }
            assertThat(imds.requestCount("GET", ROLE_PATH)).isEqualTo(3);

            imds.faults().forPath(ROLE_PATH).failNext(1, 200); // an HTML page where the JSON should be
            try (MetadataClient c = client(imds).build()) {
                assertThatThrownBy(() -> c.instanceCredentials().awsCredentials())
                        .isInstanceOf(MetadataProtocolException.class)
                        .hasMessageStartingWith("the EC2 role's credentials at " + imds.endpoint() + ROLE_PATH
                                + " is not the JSON object expected")
                        .hasMessageNotContaining("<html");
            }
            imds.faults().forPath(ROLE_PATH).failNext(Faults.ALWAYS, 503);
            try (MetadataClient c = client(imds).build()) {
                assertThatThrownBy(() -> c.instanceCredentials().awsCredentials())
                        .isInstanceOf(MetadataUnreachableException.class);
            }
        }
    }

    @Test
    void nothingLogged_holdsTheSecretOrTheToken() {
        PrintStream saved = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        String secret;
        String token;
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
        try (MetadataEmulator imds = MetadataEmulator.builder().clouds(Cloud.EC2, Cloud.GCE).ec2Role("reader")
                .gceServiceAccount("vm@p.iam.gserviceaccount.com").clock(time).start();
             MetadataClient c = client(imds).tokenTimeout(Duration.ofMillis(200)).build()) {
            imds.faults().forPath("/latest/api/token").hangNext(1); // makes the client log its IMDSv1 fallback
            secret = c.instanceCredentials().awsCredentials().orElseThrow().secretAccessKey();
            token = c.instanceCredentials().gceAccessToken().orElseThrow().value();
        } finally {
            System.setErr(saved);
        }
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("IMDSv1").doesNotContain(secret)
                .doesNotContain(token);
    }

    @Test
    void gce_serviceAccountToken_cachedAndRenewed_emptyWithoutAnAccount() {
        try (MetadataEmulator imds = MetadataEmulator.builder().clouds(Cloud.GCE).clock(time)
                .gceServiceAccount("vm@p.iam.gserviceaccount.com").start();
             MetadataClient c = client(imds).build()) {
            AccessToken t = c.instanceCredentials().gceAccessToken().orElseThrow();
            IssuedToken issued = imds.service().gceAccessToken().orElseThrow();
            assertThat(t).isEqualTo(new AccessToken(issued.value(), Instant.parse("2026-01-01T01:00:00Z")));
            assertThat(t.toString()).isEqualTo("AccessToken[value=***, expiration=2026-01-01T01:00:00Z]");
            time.advance(Duration.ofMinutes(54));
            assertThat(c.instanceCredentials().gceAccessToken()).contains(t);
            time.advance(Duration.ofMinutes(2));
            assertThat(c.instanceCredentials().gceAccessToken().orElseThrow().value()).isNotEqualTo(t.value());
            assertThat(imds.requests()).allSatisfy(r -> assertThat(r.header("Metadata-Flavor")).hasValue("Google"));
        }
        try (MetadataEmulator imds = MetadataEmulator.builder().clouds(Cloud.GCE).start();
             MetadataClient c = client(imds).build()) {
            assertThat(c.instanceCredentials().gceAccessToken()).isEmpty();
        }
    }

    @Test
    void azure_managedIdentityToken_perResource_emptyWithoutAnIdentity() {
        String storage = "https://storage.azure.com/";
        try (MetadataEmulator imds = MetadataEmulator.builder().clouds(Cloud.AZURE).azureManagedIdentity(true)
                .clock(time).start();
             MetadataClient c = client(imds).build()) {
            AccessToken t = c.instanceCredentials().azureAccessToken(storage).orElseThrow();
            assertThat(t.value()).isEqualTo(imds.service().azureAccessToken(storage).orElseThrow().value());
            assertThat(t.expiration()).isEqualTo(Instant.parse("2026-01-01T01:00:00Z"));
            AccessToken vault = c.instanceCredentials().azureAccessToken("https://vault.azure.net").orElseThrow();
            assertThat(vault.value()).isNotEqualTo(t.value());
            assertThat(c.instanceCredentials().azureAccessToken(storage)).contains(t);
            assertThat(imds.requests()).hasSize(2).allSatisfy(r -> {
                assertThat(r.header("Metadata")).hasValue("true");
                assertThat(r.queryParameter("api-version")).hasValue("2018-02-01");
            });
        }
        try (MetadataEmulator imds = MetadataEmulator.builder().clouds(Cloud.AZURE).start();
             MetadataClient c = client(imds).build()) {
            assertThat(c.instanceCredentials().azureAccessToken(storage)).isEmpty();
        }
    }

    @Test
    void azure_identityEndpointStillStarting_isRetried() {
        try (MetadataEmulator imds = MetadataEmulator.builder().clouds(Cloud.AZURE).azureManagedIdentity(true)
                .clock(time).start();
             MetadataClient c = client(imds).build()) {
            imds.faults().forPath("/metadata/identity/oauth2/token").failNext(1, 410).failNext(1, 429,
                    Duration.ofSeconds(2));
            assertThat(c.instanceCredentials().azureAccessToken("https://storage.azure.com/")).isPresent();
            assertThat(time.sleeps()).containsExactly(Duration.ofMillis(100), Duration.ofSeconds(2));
        }
    }
}
