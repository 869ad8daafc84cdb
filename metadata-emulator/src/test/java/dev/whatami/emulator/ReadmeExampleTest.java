package dev.whatami.emulator;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The README's example, compiled and run: if this fails, fix the README too. */
class ReadmeExampleTest {
    @RegisterExtension
    final MetadataEmulatorExtension imds = MetadataEmulatorExtension.with(b -> b
            .clouds(Cloud.EC2, Cloud.GCE, Cloud.AZURE, Cloud.OCI, Cloud.DIGITALOCEAN, Cloud.HETZNER)
            .userData("collector.pl 10.0.0.1").imdsV2Required(true).ec2Role("reader")
            .gceServiceAccount("vm@p.iam.gserviceaccount.com").azureManagedIdentity(true));

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> get(String method, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(imds.emulator().endpoint() + path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        return http.send(headers.length == 0 ? b.build() : b.headers(headers).build(), BodyHandlers.ofString());
    }

    @Test
    void ec2_imdsV2_andRoleCredentials() throws Exception {
        assertThat(get("GET", "/latest/user-data").statusCode()).isEqualTo(401);       // v2 required
        String token = get("PUT", "/latest/api/token", "X-aws-ec2-metadata-token-ttl-seconds", "60").body();
        assertThat(get("GET", "/latest/user-data", "X-aws-ec2-metadata-token", token).body())
                .isEqualTo("collector.pl 10.0.0.1");
        assertThat(get("GET", "/latest/meta-data/iam/security-credentials/reader", "X-aws-ec2-metadata-token", token)
                .body()).contains("\"AccessKeyId\" : \"" + imds.emulator().ec2Credentials().get().accessKeyId());
    }

    @Test
    void gce_metadataFlavor_andServiceAccountToken() throws Exception {
        assertThat(get("GET", "/computeMetadata/v1/instance/attributes/user-data").statusCode()).isEqualTo(403);
        assertThat(get("GET", "/computeMetadata/v1/instance/attributes/user-data", "Metadata-Flavor", "Google")
                .body()).isEqualTo("collector.pl 10.0.0.1");
        assertThat(get("GET", "/computeMetadata/v1/instance/service-accounts/default/token", "Metadata-Flavor",
                "Google").body()).contains("\"token_type\":\"Bearer\"");
    }

    @Test
    void azure_userDataBase64_andManagedIdentity() throws Exception {
        String b64 = get("GET", "/metadata/instance/compute/userData?api-version=2021-02-01&format=text",
                "Metadata", "true").body();
        assertThat(new String(Base64.getDecoder().decode(b64), UTF_8)).isEqualTo("collector.pl 10.0.0.1");
        assertThat(get("GET", "/metadata/identity/oauth2/token?api-version=2018-02-01&resource="
                + "https%3A%2F%2Fstorage.azure.com%2F", "Metadata", "true").body()).contains("\"expires_on\"");
    }

    @Test
    void oci_bearerOracle() throws Exception {
        String b64 = get("GET", "/opc/v2/instance/metadata/user_data", "Authorization", "Bearer Oracle").body();
        assertThat(new String(Base64.getDecoder().decode(b64), UTF_8)).isEqualTo("collector.pl 10.0.0.1");
    }

    @Test
    void digitalOcean_andHetzner() throws Exception {
        assertThat(get("GET", "/metadata/v1/user-data").body()).isEqualTo("collector.pl 10.0.0.1");
        assertThat(get("GET", "/hetzner/v1/userdata").body()).isEqualTo("collector.pl 10.0.0.1");
    }

    @Test
    void aClientSurvivesAFlakyService() throws Exception {
        imds.emulator().faults().forPath("/latest/api/token").failNext(2, 503);
        // ... the client under test retries, and reads the user-data ...
        assertThat(get("PUT", "/latest/api/token", "X-aws-ec2-metadata-token-ttl-seconds", "60").statusCode())
                .isEqualTo(503);
    }
}
