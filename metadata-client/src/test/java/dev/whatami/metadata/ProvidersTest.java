package dev.whatami.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.emulator.Cloud;
import dev.whatami.emulator.EmulatorRequest;
import dev.whatami.emulator.Faults;
import dev.whatami.emulator.MetadataEmulator;
import dev.whatami.emulator.MetadataService;
import dev.whatami.testsupport.FakeTime;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every provider's paths, headers and encodings against the metadata emulator; then detection. */
class ProvidersTest {
    private final FakeTime time = new FakeTime();
    private MetadataEmulator imds;
    @TempDir
    Path sysfs;

    private MetadataEmulator imds(Consumer<MetadataService.Builder> settings) {
        MetadataService.Builder b = MetadataEmulator.builder().clock(time);
        settings.accept(b);
        imds = b.start();
        return imds;
    }

    @AfterEach
    void stop() {
        if (imds != null) {
            imds.close();
        }
    }

    private List<String> paths() {
        return imds.requests().stream().map(EmulatorRequest::path).toList();
    }

    private MetadataClient.Builder client() {
        URI endpoint = imds == null ? URI.create("http://127.0.0.1:9") : imds.endpoint();
        return MetadataClient.builder().endpoint(endpoint).clock(time).sleeper(time::sleep).sysfsRoot(sysfs)
                .retryPolicy(RetryPolicy.builder().jitter(false).deadline(Duration.ofSeconds(5)).build());
    }

    private static String text(Optional<byte[]> b) {
        return new String(b.orElseThrow(), StandardCharsets.UTF_8);
    }

    @Test
    void gce_sendsMetadataFlavor_andReadsIdentity() {
        imds(b -> b.clouds(Cloud.GCE).userData("collector.pl 10.0.0.1").availabilityZone("europe-west1-b"));
        try (MetadataClient c = client().provider(Provider.GCE).build()) {
            assertThat(text(c.userData())).isEqualTo("collector.pl 10.0.0.1");
            assertThat(c.identity()).isEqualTo(new InstanceIdentity("4520031799277581759", Provider.GCE,
                    Optional.of("europe-west1"), Optional.of("europe-west1-b")));
        }
        assertThat(imds.requests()).allSatisfy(r -> assertThat(r.header("Metadata-Flavor")).hasValue("Google"));
    }

    @Test
    void gce_withoutUserData_runsTheStartupScriptUrl() {
        imds(b -> b.clouds(Cloud.GCE).gceStartupScriptUrl("https://files.example/roles/collector.pl"));
        try (MetadataClient c = client().provider(Provider.GCE).build()) {
            assertThat(text(c.userData())).isEqualTo("https://files.example/roles/collector.pl\n");
        }
    }

    @Test
    void azure_sendsMetadataTrueAndApiVersion_andDecodesBase64() {
        imds(b -> b.clouds(Cloud.AZURE).userData("processor.pl 10.0.0.1"));
        try (MetadataClient c = client().provider(Provider.AZURE).build()) {
            assertThat(text(c.userData())).isEqualTo("processor.pl 10.0.0.1");
            assertThat(c.identity().instanceId()).isEqualTo("02aab8a4-74ef-476e-8182-f6d2ba4166a6");
            assertThat(c.identity().region()).contains("westeurope");
            assertThat(c.identity().zone()).isEmpty();
        }
        assertThat(imds.requests()).allSatisfy(r -> {
            assertThat(r.header("Metadata")).hasValue("true");
            assertThat(r.query()).hasValue("api-version=2021-02-01&format=text");
        });
    }

    @Test
    void azure_emptyUserData_isNone() {
        imds(b -> b.clouds(Cloud.AZURE)); // Azure answers an empty userData
        try (MetadataClient c = client().provider(Provider.AZURE).build()) {
            assertThat(c.userData()).isEmpty();
        }
    }

    @Test
    void oci_sendsBearerOracle_andDecodesBase64() {
        imds(b -> b.clouds(Cloud.OCI).userData("#!/bin/sh\necho oci\n").instanceId("ocid1.instance.oc1.phx.abc"));
        try (MetadataClient c = client().provider(Provider.OCI).build()) {
            assertThat(text(c.userData())).isEqualTo("#!/bin/sh\necho oci\n");
            assertThat(c.identity()).isEqualTo(new InstanceIdentity("ocid1.instance.oc1.phx.abc", Provider.OCI,
                    Optional.of("us-phoenix-1"), Optional.of("Uocm:PHX-AD-1")));
        }
        assertThat(imds.requests()).allSatisfy(r -> assertThat(r.header("Authorization")).hasValue("Bearer Oracle"));
    }

    @Test
    void oci_badBase64_isAProtocolError() {
        imds(b -> b.clouds(Cloud.OCI).userData("x"));
        imds.faults().forPath("/opc/v2/instance/metadata/user_data").failNext(1, 200); // an HTML page, not base64
        try (MetadataClient c = client().provider(Provider.OCI).build()) {
            assertThatThrownBy(c::userData).isInstanceOf(MetadataProtocolException.class)
                    .hasMessageContaining("should be base64 but is not");
        }
    }

    @Test
    void digitalOcean_andHetzner() {
        imds(b -> b.clouds(Cloud.DIGITALOCEAN, Cloud.HETZNER).userData("x.sh 10.0.0.1"));
        try (MetadataClient c = client().provider(Provider.DIGITALOCEAN).build()) {
            assertThat(text(c.userData())).isEqualTo("x.sh 10.0.0.1");
            assertThat(c.identity()).isEqualTo(new InstanceIdentity("3164494", Provider.DIGITALOCEAN,
                    Optional.of("ams3"), Optional.empty()));
        }
        try (MetadataClient c = client().provider(Provider.HETZNER).build()) {
            assertThat(text(c.userData())).isEqualTo("x.sh 10.0.0.1");
            assertThat(c.identity()).isEqualTo(new InstanceIdentity("42", Provider.HETZNER,
                    Optional.of("eu-central"), Optional.of("fsn1-dc14")));
        }
    }

    @Test
    void serverErrors_areRetried_forEveryProvider() {
        imds(b -> b.clouds(Cloud.DIGITALOCEAN).userData("x"));
        imds.faults().forPath("/metadata/v1/user-data").failNext(1, 503);
        try (MetadataClient c = client().provider(Provider.DIGITALOCEAN).build()) {
            assertThat(text(c.userData())).isEqualTo("x");
        }
        assertThat(time.sleeps()).hasSize(1);
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
        imds(b -> b.clouds(Cloud.AZURE).userData("a.sh 10.0.0.1"));
        try (MetadataClient c = client().autoDetect().build()) {
            assertThat(c.provider()).isEqualTo(Provider.AZURE);
            assertThat(text(c.userData())).isEqualTo("a.sh 10.0.0.1");
        }
        assertThat(paths()).containsExactly("/metadata/instance/compute/userData");
    }

    @Test
    void detection_fromTheXenHypervisorUuid() throws Exception {
        Files.createDirectories(sysfs.resolve("sys/hypervisor"));
        Files.writeString(sysfs.resolve("sys/hypervisor/uuid"), "ec2e1916-9099-7caf-fd21-012345abcdef\n");
        imds(b -> { });
        try (MetadataClient c = client().autoDetect().build()) {
            assertThat(c.provider()).isEqualTo(Provider.EC2);
        }
    }

    @Test
    void detection_probesInOrder_whenThePlatformSaysNothing() {
        // only Hetzner answers: every earlier provider is probed first and found absent
        imds(b -> b.clouds(Cloud.HETZNER));
        try (MetadataClient c = client().autoDetect().build()) {
            assertThat(c.provider()).isEqualTo(Provider.HETZNER);
        }
        assertThat(paths()).containsExactly(
                "/latest/meta-data/instance-id", "/computeMetadata/v1/instance/id", "/metadata/instance/compute/vmId",
                "/opc/v2/instance/id", "/metadata/v1/id", "/hetzner/v1/metadata/instance-id");
    }

    @Test
    void detection_gceMustAnswerAsGoogle() {
        imds(b -> b.clouds(Cloud.DIGITALOCEAN));
        // something answers 200 at GCE's path, without Metadata-Flavor: Google: not GCE
        imds.faults().forPath("/computeMetadata/v1/instance/id").failNext(Faults.ALWAYS, 200);
        try (MetadataClient c = client().autoDetect().build()) {
            assertThat(c.provider()).isEqualTo(Provider.DIGITALOCEAN);
        }
    }

    @Test
    void detection_ec2ThatRequiresTokens_isStillEc2() {
        imds(b -> b.imdsV2Required(true));
        try (MetadataClient c = client().autoDetect().build()) {
            assertThat(c.provider()).isEqualTo(Provider.EC2);
        }
    }

    @Test
    void ec2Disabled_isSkippedByDetection_andRefusedWhenNamed() {
        imds(b -> b.clouds(Cloud.EC2, Cloud.DIGITALOCEAN));
        try (MetadataClient c = client().autoDetect().ec2Disabled(true).build()) {
            assertThat(c.provider()).isEqualTo(Provider.DIGITALOCEAN);
        }
        assertThatThrownBy(() -> client().provider(Provider.EC2).ec2Disabled(true).build())
                .isInstanceOf(MetadataRefusedException.class).hasMessageContaining("call ec2Disabled(false)")
                .extracting(e -> ((MetadataException) e).reason()).isEqualTo(MetadataException.Reason.EC2_DISABLED);
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
                    .hasMessageContaining("Not on a cloud? Give the user-data with provider(Provider.NOCLOUD) and "
                            + "noCloudSource(path); on a cloud, name it with provider(...) (and endpoint(...)).")
                    .extracting(e -> ((MetadataException) e).reason()).isEqualTo(MetadataException.Reason.NOT_DETECTED);
        }
        Duration slept = time.sleeps().stream().reduce(Duration.ZERO, Duration::plus);
        assertThat(slept).isLessThanOrEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void ipv6EndpointMode_isTheDefaultEndpointForEc2() {
        assertThat(EndpointMode.IPV6.endpoint()).isEqualTo(URI.create("http://[fd00:ec2::254]"));
        assertThat(EndpointMode.IPV4.endpoint()).isEqualTo(MetadataClient.EC2_DEFAULT_ENDPOINT);
    }
}
