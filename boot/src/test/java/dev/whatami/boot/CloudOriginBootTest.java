package dev.whatami.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.emulator.Cloud;
import dev.whatami.emulator.IssuedCredentials;
import dev.whatami.emulator.MetadataEmulator;
import dev.whatami.metadata.MetadataClient;
import dev.whatami.metadata.Provider;
import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import dev.whatami.status.Trust;
import dev.whatami.testsupport.FakeTime;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A private cloud origin through the whole boot: {@code s3://} user-data, the instance role's credentials from the
 * metadata service signing the GETs of the script and its signature, against an S3-compatible endpoint named by
 * {@code AWS_ENDPOINT_URL_S3} in the boot's environment (a loopback server that records what it is sent; the
 * fetcher's own tests run the same against S3Proxy).
 */
class CloudOriginBootTest {
    private static final byte[] SCRIPT = "#!/bin/sh\necho ran >> \"$MARKER\"\n".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    @BeforeAll
    static void keys() throws Exception {
        BootFaultMatrixTest.sign();
    }

    @Test
    void s3UserData_isFetchedWithTheInstanceRole_andNoCredentialShows() throws Exception {
        FakeTime time = new FakeTime();
        try (FaultyFiles s3 = new FaultyFiles().start();
             MetadataEmulator imds = MetadataEmulator.builder().instanceId("i-s3").ec2Role("collector-role")
                     .userData("s3://roles-bucket/collector.sh").clock(time).start();
             MetadataClient metadata = MetadataClient.builder().endpoint(imds.endpoint()).clock(time)
                     .sleeper(time::sleep).build()) {
            s3.serve("/roles-bucket/collector.sh", SCRIPT)
                    .serve("/roles-bucket/collector.sh.sig", BootFaultMatrixTest.signatureOf(SCRIPT));
            StringBuilder console = new StringBuilder();
            RunStatus run = Boot.builder(metadata).stateDir(dir.resolve("state")).logDir(dir.resolve("log"))
                    .bootId("boot-1").trustedKeys(BootFaultMatrixTest.trustedKeys())
                    .environment(Map.of("PATH", System.getenv("PATH"), "MARKER", dir.resolve("ran").toString(),
                            "AWS_ENDPOINT_URL_S3", s3.uri("").toString()))
                    .console(line -> console.append(line).append('\n')).clock(time).sleeper(time::sleep)
                    .fetchReadTimeout(Duration.ofSeconds(5)).build().run();

            assertThat(run.state()).as(run.message().orElse("")).isEqualTo(RunState.DONE);
            assertThat(run.tasks().get(0).trust()).hasValue(Trust.SIGNATURE);
            assertThat(Files.readString(dir.resolve("ran"))).isEqualTo("ran\n");
            IssuedCredentials role = imds.ec2Credentials().orElseThrow();
            assertThat(s3.requests()).filteredOn(r -> r.startsWith("GET /roles-bucket/collector.sh"))
                    .isNotEmpty()
                    .allSatisfy(r -> assertThat(r).contains("AWS4-HMAC-SHA256 Credential=" + role.accessKeyId() + "/"));
            String everything = console + Files.readString(dir.resolve("state/status.json"));
            assertThat(everything).doesNotContain(role.secretAccessKey()).doesNotContain(role.sessionToken());
        }
    }

    @Test
    void gsUserData_isFetchedWithTheServiceAccountsToken_andNoTokenShows() throws Exception {
        FakeTime time = new FakeTime();
        try (FaultyFiles gcs = new FaultyFiles().start();
             MetadataEmulator imds = MetadataEmulator.builder().clouds(Cloud.GCE).instanceId("4242")
                     .gceServiceAccount("collector@project.iam.gserviceaccount.com")
                     .userData("gs://roles-bucket/collector.sh").clock(time).start();
             MetadataClient metadata = MetadataClient.builder().provider(Provider.GCE).endpoint(imds.endpoint())
                     .clock(time).sleeper(time::sleep).build()) {
            gcs.serve("/storage/v1/b/roles-bucket/o/collector.sh", SCRIPT)
                    .serve("/storage/v1/b/roles-bucket/o/collector.sh.sig", BootFaultMatrixTest.signatureOf(SCRIPT));
            StringBuilder console = new StringBuilder();
            RunStatus run = Boot.builder(metadata).stateDir(dir.resolve("state")).logDir(dir.resolve("log"))
                    .bootId("boot-1").trustedKeys(BootFaultMatrixTest.trustedKeys())
                    .environment(Map.of("PATH", System.getenv("PATH"), "MARKER", dir.resolve("ran").toString(),
                            "STORAGE_EMULATOR_HOST", "127.0.0.1:" + gcs.uri("").getPort()))
                    .console(line -> console.append(line).append('\n')).clock(time).sleeper(time::sleep)
                    .fetchReadTimeout(Duration.ofSeconds(5)).build().run();

            assertThat(run.state()).as(run.message().orElse("")).isEqualTo(RunState.DONE);
            assertThat(run.tasks().get(0).trust()).hasValue(Trust.SIGNATURE);
            assertThat(Files.readString(dir.resolve("ran"))).isEqualTo("ran\n");
            String token = imds.service().gceAccessToken().orElseThrow().value();
            assertThat(gcs.requests()).filteredOn(r -> r.startsWith("GET /storage/v1/b/roles-bucket/o/collector.sh"))
                    .hasSize(2).allSatisfy(r -> assertThat(r).endsWith("Authorization: Bearer " + token));
            String everything = console + Files.readString(dir.resolve("state/status.json"));
            assertThat(everything).doesNotContain(token);
        }
    }
}
