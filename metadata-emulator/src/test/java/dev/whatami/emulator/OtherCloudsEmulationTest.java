package dev.whatami.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.testsupport.FakeTime;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** GCE, Azure, OCI, DigitalOcean and Hetzner: their headers, paths and encodings. */
class OtherCloudsEmulationTest {
    private static final String FLAVOR = "Metadata-Flavor";
    private final FakeTime clock = new FakeTime();

    @Test
    void gce_needsMetadataFlavor_andSaysItIsGoogle() throws Exception {
        try (MetadataEmulator imds = MetadataEmulator.builder().clouds(Cloud.GCE).userData("collector.pl 10.0.0.1")
                .gceStartupScriptUrl("https://files.example/r.pl").availabilityZone("europe-west1-b").start()) {
            URI e = imds.endpoint();
            HttpResponse<String> refused = Http.get(e, "/computeMetadata/v1/instance/id");
            assertThat(refused.statusCode()).isEqualTo(403);
            assertThat(refused.body()).contains("Missing Metadata-Flavor:Google header.");
            assertThat(Http.get(e, "/computeMetadata/v1/instance/id", FLAVOR, "Google", "X-Forwarded-For", "1.2.3.4")
                    .statusCode()).isEqualTo(403);
            HttpResponse<String> id = Http.get(e, "/computeMetadata/v1/instance/id", FLAVOR, "Google");
            assertThat(id.body()).isEqualTo("4520031799277581759");
            assertThat(id.headers().firstValue(FLAVOR)).hasValue("Google");
            assertThat(Http.get(e, "/computeMetadata/v1/instance/zone", FLAVOR, "Google").body())
                    .isEqualTo("projects/123456789012/zones/europe-west1-b");
            assertThat(Http.get(e, "/computeMetadata/v1/instance/attributes/", FLAVOR, "Google").body())
                    .isEqualTo("startup-script-url\nuser-data");
            assertThat(Http.get(e, "/computeMetadata/v1/instance/attributes/user-data", FLAVOR, "Google").body())
                    .isEqualTo("collector.pl 10.0.0.1");
            assertThat(Http.get(e, "/computeMetadata/v1/instance/attributes/startup-script-url", FLAVOR, "Google")
                    .body()).isEqualTo("https://files.example/r.pl");
            assertThat(Http.get(e, "/computeMetadata/v1/instance/service-accounts/default/token", FLAVOR, "Google")
                    .statusCode()).isEqualTo(404);
            assertThat(Http.get(e, "/latest/user-data").statusCode()).isEqualTo(404); // EC2 not played
        }
    }

    @Test
    void gce_serviceAccountToken_expiresIn_countsDown() throws Exception {
        try (MetadataEmulator imds = MetadataEmulator.builder().clouds(Cloud.GCE).clock(clock)
                .gceServiceAccount("vm@whatami-project.iam.gserviceaccount.com").start()) {
            URI e = imds.endpoint();
            String path = "/computeMetadata/v1/instance/service-accounts/default/token";
            String body = Http.get(e, path, FLAVOR, "Google").body();
            String token = imds.service().gceAccessToken().orElseThrow().value();
            assertThat(body).isEqualTo("{\"access_token\":\"" + token + "\",\"expires_in\":3600,\"token_type\":\"Bearer\"}");
            assertThat(token).startsWith("ya29.");
            clock.advance(Duration.ofSeconds(600));
            assertThat(Http.get(e, path, FLAVOR, "Google").body()).contains("\"expires_in\":3000");
            assertThat(Http.get(e, "/computeMetadata/v1/instance/service-accounts/default/email", FLAVOR, "Google")
                    .body()).isEqualTo("vm@whatami-project.iam.gserviceaccount.com");
        }
    }

    @Test
    void azure_needsMetadataTrueAndApiVersion_andServesUserDataBase64() throws Exception {
        try (MetadataEmulator imds = MetadataEmulator.builder().clouds(Cloud.AZURE).userData("processor.pl 10.0.0.1")
                .start()) {
            URI e = imds.endpoint();
            String q = "?api-version=2021-02-01&format=text";
            HttpResponse<String> noHeader = Http.get(e, "/metadata/instance/compute/userData" + q);
            assertThat(noHeader.statusCode()).isEqualTo(400);
            assertThat(noHeader.body()).isEqualTo("{\"error\":\"Bad request. Required metadata header not specified\"}");
            HttpResponse<String> noVersion = Http.get(e, "/metadata/instance/compute/userData?format=text",
                    "Metadata", "true");
            assertThat(noVersion.statusCode()).isEqualTo(400);
            assertThat(noVersion.body()).contains("api-version was not specified");
            String b64 = Http.get(e, "/metadata/instance/compute/userData" + q, "Metadata", "true").body();
            assertThat(new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8))
                    .isEqualTo("processor.pl 10.0.0.1");
            assertThat(Http.get(e, "/metadata/instance/compute/vmId" + q, "Metadata", "true").body())
                    .isEqualTo("02aab8a4-74ef-476e-8182-f6d2ba4166a6");
            assertThat(Http.get(e, "/metadata/instance?api-version=2021-02-01", "Metadata", "true").body())
                    .contains("\"location\":\"westeurope\"");
        }
    }

    @Test
    void azure_identityToken_perResource_andNoneWithoutAnIdentity() throws Exception {
        String path = "/metadata/identity/oauth2/token?api-version=2018-02-01&resource="
                + "https%3A%2F%2Fstorage.azure.com%2F";
        try (MetadataEmulator imds = MetadataEmulator.builder().clouds(Cloud.AZURE).start()) {
            HttpResponse<String> r = Http.get(imds.endpoint(), path, "Metadata", "true");
            assertThat(r.statusCode()).isEqualTo(400);
            assertThat(r.body()).isEqualTo("{\"error\":\"invalid_request\",\"error_description\":\"Identity not found\"}");
        }
        try (MetadataEmulator imds = MetadataEmulator.builder().clouds(Cloud.AZURE).azureManagedIdentity(true)
                .clock(clock).start()) {
            String body = Http.get(imds.endpoint(), path, "Metadata", "true").body();
            IssuedToken t = imds.service().azureAccessToken("https://storage.azure.com/").orElseThrow();
            assertThat(body).contains("\"access_token\":\"" + t.value() + "\"")
                    .contains("\"expires_on\":\"" + t.expiration().getEpochSecond() + "\"")
                    .contains("\"expires_in\":\"3600\"")
                    .contains("\"resource\":\"https://storage.azure.com/\"").contains("\"token_type\":\"Bearer\"");
            assertThat(Http.get(imds.endpoint(), "/metadata/identity/oauth2/token?api-version=2018-02-01",
                    "Metadata", "true").body()).contains("Required query variable 'resource' is missing");
        }
    }

    @Test
    void oci_needsBearerOracle_andServesUserDataBase64() throws Exception {
        try (MetadataEmulator imds = MetadataEmulator.builder().clouds(Cloud.OCI).userData("#!/bin/sh\necho oci\n")
                .start()) {
            URI e = imds.endpoint();
            assertThat(Http.get(e, "/opc/v2/instance/id").statusCode()).isEqualTo(401);
            String auth = "Bearer Oracle";
            assertThat(Http.get(e, "/opc/v2/instance/id", "Authorization", auth).body())
                    .isEqualTo("ocid1.instance.oc1.phx.abuhqljrexampleuniqueid");
            assertThat(Http.get(e, "/opc/v2/instance/canonicalRegionName", "Authorization", auth).body())
                    .isEqualTo("us-phoenix-1");
            String b64 = Http.get(e, "/opc/v2/instance/metadata/user_data", "Authorization", auth).body();
            assertThat(new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8))
                    .isEqualTo("#!/bin/sh\necho oci\n");
        }
    }

    @Test
    void digitalOcean_andHetzner() throws Exception {
        try (MetadataEmulator imds = MetadataEmulator.builder().clouds(Cloud.DIGITALOCEAN, Cloud.HETZNER)
                .userData("x.sh 10.0.0.1").start()) {
            URI e = imds.endpoint();
            assertThat(Http.get(e, "/metadata/v1/user-data").body()).isEqualTo("x.sh 10.0.0.1");
            assertThat(Http.get(e, "/metadata/v1/id").body()).isEqualTo("3164494");
            assertThat(Http.get(e, "/metadata/v1/region").body()).isEqualTo("ams3");
            assertThat(Http.get(e, "/hetzner/v1/userdata").body()).isEqualTo("x.sh 10.0.0.1");
            assertThat(Http.get(e, "/hetzner/v1/metadata/instance-id").body()).isEqualTo("42");
            assertThat(Http.get(e, "/hetzner/v1/metadata").body()).contains("region: eu-central\n");
        }
    }
}
