package dev.whatami.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.metadata.FakeImds.Reply;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every provider's paths, headers and encodings against a fake on loopback; then detection. */
class ProvidersTest {
    private final FakeImds imds = new FakeImds();
    private final FakeTime time = new FakeTime();
    @TempDir
    Path sysfs;

    @AfterEach
    void stop() {
        imds.close();
    }

    private MetadataClient.Builder client() {
        return MetadataClient.builder().endpoint(imds.endpoint()).clock(time).sleeper(time).sysfsRoot(sysfs)
                .retryPolicy(RetryPolicy.builder().jitter(false).deadline(Duration.ofSeconds(5)).build());
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String text(Optional<byte[]> b) {
        return new String(b.orElseThrow(), StandardCharsets.UTF_8);
    }

    @Test
    void gce_sendsMetadataFlavor_andReadsIdentity() {
        imds.on("GET", "/computeMetadata/v1/instance/attributes/user-data", Reply.ok("collector.pl 10.0.0.1"))
                .on("GET", "/computeMetadata/v1/instance/id", Reply.ok("4520031799277581759"))
                .on("GET", "/computeMetadata/v1/instance/zone", Reply.ok("projects/1234/zones/europe-west1-b"));
        try (MetadataClient c = client().provider(Provider.GCE).build()) {
            assertThat(text(c.userData())).isEqualTo("collector.pl 10.0.0.1");
            assertThat(c.identity()).isEqualTo(new InstanceIdentity("4520031799277581759", Provider.GCE,
                    Optional.of("europe-west1"), Optional.of("europe-west1-b")));
        }
        assertThat(imds.requests).allSatisfy(r -> assertThat(r.header("Metadata-Flavor")).isEqualTo("Google"));
    }

    @Test
    void gce_withoutUserData_runsTheStartupScriptUrl() {
        imds.on("GET", "/computeMetadata/v1/instance/attributes/startup-script-url",
                Reply.ok("https://files.example/roles/collector.pl"));
        try (MetadataClient c = client().provider(Provider.GCE).build()) {
            assertThat(text(c.userData())).isEqualTo("https://files.example/roles/collector.pl\n");
        }
    }

    @Test
    void azure_sendsMetadataTrueAndApiVersion_andDecodesBase64() {
        imds.on("GET", "/metadata/instance/compute/userData", Reply.ok(b64("processor.pl 10.0.0.1")))
                .on("GET", "/metadata/instance/compute/vmId", Reply.ok("02aab8a4-74ef-476e-8182-f6d2ba4166a6"))
                .on("GET", "/metadata/instance/compute/location", Reply.ok("westeurope"));
        try (MetadataClient c = client().provider(Provider.AZURE).build()) {
            assertThat(text(c.userData())).isEqualTo("processor.pl 10.0.0.1");
            assertThat(c.identity().instanceId()).isEqualTo("02aab8a4-74ef-476e-8182-f6d2ba4166a6");
            assertThat(c.identity().region()).contains("westeurope");
            assertThat(c.identity().zone()).isEmpty();
        }
        assertThat(imds.requests).allSatisfy(r -> {
            assertThat(r.header("Metadata")).isEqualTo("true");
            assertThat(r.query()).isEqualTo("api-version=2021-02-01&format=text");
        });
    }

    @Test
    void azure_emptyUserData_isNone() {
        imds.on("GET", "/metadata/instance/compute/userData", Reply.ok(""));
        try (MetadataClient c = client().provider(Provider.AZURE).build()) {
            assertThat(c.userData()).isEmpty();
        }
    }

    @Test
    void oci_sendsBearerOracle_andDecodesBase64() {
        imds.on("GET", "/opc/v2/instance/metadata/user_data", Reply.ok(b64("#!/bin/sh\necho oci\n")))
                .on("GET", "/opc/v2/instance/id", Reply.ok("ocid1.instance.oc1.phx.abc"))
                .on("GET", "/opc/v2/instance/canonicalRegionName", Reply.ok("us-phoenix-1"))
                .on("GET", "/opc/v2/instance/availabilityDomain", Reply.ok("Uocm:PHX-AD-1"));
        try (MetadataClient c = client().provider(Provider.OCI).build()) {
            assertThat(text(c.userData())).isEqualTo("#!/bin/sh\necho oci\n");
            assertThat(c.identity()).isEqualTo(new InstanceIdentity("ocid1.instance.oc1.phx.abc", Provider.OCI,
                    Optional.of("us-phoenix-1"), Optional.of("Uocm:PHX-AD-1")));
        }
        assertThat(imds.requests).allSatisfy(r -> assertThat(r.header("Authorization")).isEqualTo("Bearer Oracle"));
    }

    @Test
    void oci_badBase64_isAProtocolError() {
        imds.on("GET", "/opc/v2/instance/metadata/user_data", Reply.ok("not base64 !!!"));
        try (MetadataClient c = client().provider(Provider.OCI).build()) {
            assertThatThrownBy(c::userData).isInstanceOf(MetadataProtocolException.class)
                    .hasMessageContaining("should be base64 but is not");
        }
    }

    @Test
    void digitalOcean_andHetzner() {
        imds.on("GET", "/metadata/v1/user-data", Reply.ok("do.sh 10.0.0.1"))
                .on("GET", "/metadata/v1/id", Reply.ok("3164494"))
                .on("GET", "/metadata/v1/region", Reply.ok("ams3"))
                .on("GET", "/hetzner/v1/userdata", Reply.ok("hz.sh 10.0.0.1"))
                .on("GET", "/hetzner/v1/metadata/instance-id", Reply.ok("42"))
                .on("GET", "/hetzner/v1/metadata/region", Reply.ok("eu-central"))
                .on("GET", "/hetzner/v1/metadata/availability-zone", Reply.ok("fsn1-dc14"));
        try (MetadataClient c = client().provider(Provider.DIGITALOCEAN).build()) {
            assertThat(text(c.userData())).isEqualTo("do.sh 10.0.0.1");
            assertThat(c.identity()).isEqualTo(new InstanceIdentity("3164494", Provider.DIGITALOCEAN,
                    Optional.of("ams3"), Optional.empty()));
        }
        try (MetadataClient c = client().provider(Provider.HETZNER).build()) {
            assertThat(text(c.userData())).isEqualTo("hz.sh 10.0.0.1");
            assertThat(c.identity()).isEqualTo(new InstanceIdentity("42", Provider.HETZNER,
                    Optional.of("eu-central"), Optional.of("fsn1-dc14")));
        }
    }

    @Test
    void serverErrors_areRetried_forEveryProvider() {
        imds.once("GET", "/metadata/v1/user-data", Reply.status(503)).on("GET", "/metadata/v1/user-data", Reply.ok("x"));
        try (MetadataClient c = client().provider(Provider.DIGITALOCEAN).build()) {
            assertThat(text(c.userData())).isEqualTo("x");
        }
        assertThat(time.sleeps).hasSize(1);
    }

    private void dmi(String vendor, String product, String asset) throws Exception {
        Path d = Files.createDirectories(sysfs.resolve("sys/class/dmi/id"));
        Files.writeString(d.resolve("sys_vendor"), vendor + "\n");
        Files.writeString(d.resolve("product_name"), product + "\n");
        Files.writeString(d.resolve("chassis_asset_tag"), asset + "\n");
    }

    @Test
    void detection_trustsDmiFirst_withoutProbing() throws Exception {
        dmi("Microsoft Corporation", "Virtual Machine", "7783-7084-3265-9085-8269-3286-77");
        imds.on("GET", "/metadata/instance/compute/userData", Reply.ok(b64("a.sh 10.0.0.1")));
        try (MetadataClient c = client().autoDetect().build()) {
            assertThat(c.provider()).isEqualTo(Provider.AZURE);
            assertThat(text(c.userData())).isEqualTo("a.sh 10.0.0.1");
        }
        assertThat(imds.requests).extracting(FakeImds.Recorded::path)
                .containsExactly("/metadata/instance/compute/userData");
    }

    @Test
    void detection_fromTheXenHypervisorUuid() throws Exception {
        Files.createDirectories(sysfs.resolve("sys/hypervisor"));
        Files.writeString(sysfs.resolve("sys/hypervisor/uuid"), "ec2e1916-9099-7caf-fd21-012345abcdef\n");
        try (MetadataClient c = client().autoDetect().build()) {
            assertThat(c.provider()).isEqualTo(Provider.EC2);
        }
    }

    @Test
    void detection_probesInOrder_whenThePlatformSaysNothing() {
        // only Hetzner answers: every earlier provider is probed first and found absent
        imds.on("GET", "/hetzner/v1/metadata/instance-id", Reply.ok("7"));
        try (MetadataClient c = client().autoDetect().build()) {
            assertThat(c.provider()).isEqualTo(Provider.HETZNER);
        }
        assertThat(imds.requests).extracting(FakeImds.Recorded::path).containsExactly(
                "/latest/meta-data/instance-id", "/computeMetadata/v1/instance/id", "/metadata/instance/compute/vmId",
                "/opc/v2/instance/id", "/metadata/v1/id", "/hetzner/v1/metadata/instance-id");
    }

    @Test
    void detection_gceMustAnswerAsGoogle() {
        imds.on("GET", "/computeMetadata/v1/instance/id", Reply.ok("1")) // no Metadata-Flavor: not GCE
                .on("GET", "/metadata/v1/id", Reply.ok("2"));
        try (MetadataClient c = client().autoDetect().build()) {
            assertThat(c.provider()).isEqualTo(Provider.DIGITALOCEAN);
        }
    }

    @Test
    void detection_ec2ThatRequiresTokens_isStillEc2() {
        imds.on("GET", "/latest/meta-data/instance-id", Reply.status(401));
        try (MetadataClient c = client().autoDetect().build()) {
            assertThat(c.provider()).isEqualTo(Provider.EC2);
        }
    }

    @Test
    void ec2Disabled_isSkippedByDetection_andRefusedWhenNamed() {
        imds.on("GET", "/latest/meta-data/instance-id", Reply.ok("i-1")).on("GET", "/metadata/v1/id", Reply.ok("2"));
        try (MetadataClient c = client().autoDetect().ec2Disabled(true).build()) {
            assertThat(c.provider()).isEqualTo(Provider.DIGITALOCEAN);
        }
        assertThatThrownBy(() -> client().provider(Provider.EC2).ec2Disabled(true).build())
                .isInstanceOf(MetadataRefusedException.class).hasMessageContaining("AWS_EC2_METADATA_DISABLED");
    }

    @Test
    void offCloud_givesUpWithinTheDetectionTimeout_sayingWhatItTried() throws Exception {
        dmi("QEMU", "Standard PC (Q35 + ICH9, 2009)", "");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        URI nothing = URI.create("http://127.0.0.1:" + port);
        try (MetadataClient c = client().endpoint(nothing).autoDetect().detectionTimeout(Duration.ofSeconds(10))
                .build()) {
            assertThatThrownBy(c::userData).isInstanceOf(MetadataUnreachableException.class)
                    .hasMessageStartingWith("no metadata service found within 10 s (")
                    .hasMessageContaining("The platform says: DMI sys_vendor=\"QEMU\"")
                    .hasMessageContaining("ec2 at " + nothing + " (HttpHostConnectException)")
                    .hasMessageContaining("hetzner at " + nothing)
                    .hasMessageContaining("Not on a cloud? Give the user-data with --user-data-file");
        }
        Duration slept = time.sleeps.stream().reduce(Duration.ZERO, Duration::plus);
        assertThat(slept).isLessThanOrEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void ipv6EndpointMode_isTheDefaultEndpointForEc2() {
        assertThat(EndpointMode.IPV6.endpoint()).isEqualTo(URI.create("http://[fd00:ec2::254]"));
        assertThat(EndpointMode.IPV4.endpoint()).isEqualTo(MetadataClient.EC2_DEFAULT_ENDPOINT);
    }
}
