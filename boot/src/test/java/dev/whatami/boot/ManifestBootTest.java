package dev.whatami.boot;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.emulator.MetadataEmulator;
import dev.whatami.fetch.MinisignSigner;
import dev.whatami.metadata.MetadataClient;
import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import dev.whatami.status.TaskState;
import dev.whatami.status.Trust;
import dev.whatami.testsupport.FakeTime;
import dev.whatami.testsupport.TestHttpServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signed manifests through the whole boot: a listed script runs with trust "signature", on http and on an
 * {@code s3://} origin (the manifest's four files signed with the instance role like the script); an older manifest
 * on a later boot is refused, and the run says so.
 */
class ManifestBootTest {
    private static final byte[] SCRIPT = "#!/bin/sh\necho ran >> \"$MARKER\"\n".getBytes(UTF_8);

    @TempDir
    Path dir;
    private final FakeTime time = new FakeTime();
    private final MinisignSigner root = MinisignSigner.generate();
    private final MinisignSigner signer = MinisignSigner.generate();

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** Serves keys.json, manifest.json (listing the script as collector.sh, at {@code version}) and signatures. */
    private void serveSet(TestHttpServer files, String dir, long version) throws Exception {
        byte[] keys = ("{\"type\": \"whatami-keys/1\", \"version\": 1, \"expires\": \"2027-06-01T00:00:00Z\", "
                + "\"keys\": [{\"key\": \"" + signer.publicKey().base64() + "\", \"expires\": \"2027-06-01T00:00:00Z\""
                + "}]}").getBytes(UTF_8);
        byte[] manifest = ("{\"type\": \"whatami-manifest/1\", \"name\": \"roles\", \"version\": " + version
                + ", \"expires\": \"2027-01-01T00:00:00Z\", \"files\": {\"collector.sh\": {\"sha256\": \""
                + sha256(SCRIPT) + "\"}}}").getBytes(UTF_8);
        files.file(dir + "keys.json", keys).file(dir + "keys.json.minisig", root.sign(keys, "k").getBytes(UTF_8))
                .file(dir + "manifest.json", manifest)
                .file(dir + "manifest.json.minisig", signer.sign(manifest, "m").getBytes(UTF_8))
                .file(dir + "collector.sh", SCRIPT);
    }

    private RunStatus boot(MetadataClient metadata, String bootId, Map<String, String> env) {
        return Boot.builder(metadata).stateDir(dir.resolve("state")).logDir(dir.resolve("log")).bootId(bootId)
                .manifestRootKey(root.publicKey()).requireSignature(true).environment(env).clock(time).sleeper(time::sleep)
                .fetchReadTimeout(Duration.ofSeconds(5)).build().run();
    }

    @Test
    void listedScript_runsAsSignature_andAnOlderManifestOnALaterBoot_isRefused() throws Exception {
        try (TestHttpServer files = TestHttpServer.start();
             MetadataEmulator imds = MetadataEmulator.builder().instanceId("i-manifest")
                     .userData(files.uri("/roles/collector.sh") + " frequency=per-boot").clock(time).start();
             MetadataClient metadata = MetadataClient.builder().endpoint(imds.endpoint()).clock(time).sleeper(time::sleep)
                     .build()) {
            Map<String, String> env = Map.of("PATH", System.getenv("PATH"), "MARKER", dir.resolve("ran").toString());
            serveSet(files, "/roles/", 2);
            RunStatus first = boot(metadata, "boot-1", env);
            assertThat(first.state()).as(first.message().orElse("")).isEqualTo(RunState.DONE);
            assertThat(first.tasks().get(0).trust()).hasValue(Trust.SIGNATURE);
            assertThat(Files.readString(dir.resolve("state/manifests.json"))).contains("\"version\" : 2");
            // the manifest's digest is the script's content address; the manifest's own files are asked for by name
            assertThat(files.requests("/roles/collector.sh")).extracting(TestHttpServer.Request::query)
                    .containsExactly("sha256=" + sha256(SCRIPT));
            assertThat(files.requests("/roles/manifest.json")).extracting(TestHttpServer.Request::query)
                    .containsOnlyNulls();

            serveSet(files, "/roles/", 1);
            RunStatus second = boot(metadata, "boot-2", env);
            assertThat(second.state()).isEqualTo(RunState.REFUSED);
            assertThat(second.tasks().get(0).state()).isEqualTo(TaskState.REFUSED);
            assertThat(second.message().orElse("")).contains("(\"roles\", version 1) is older than the manifest this "
                    + "instance accepted before (version 2)");
            assertThat(Files.readString(dir.resolve("ran"))).isEqualTo("ran\n");
        }
    }

    @Test
    void s3Origin_manifestIsFetchedWithTheInstanceRole() throws Exception {
        try (TestHttpServer s3 = TestHttpServer.start();
             MetadataEmulator imds = MetadataEmulator.builder().instanceId("i-s3").ec2Role("collector-role")
                     .userData("s3://roles-bucket/collector.sh").clock(time).start();
             MetadataClient metadata = MetadataClient.builder().endpoint(imds.endpoint()).clock(time).sleeper(time::sleep)
                     .build()) {
            serveSet(s3, "/roles-bucket/", 1);
            RunStatus run = boot(metadata, "boot-1", Map.of("PATH", System.getenv("PATH"), "MARKER",
                    dir.resolve("ran").toString(), "AWS_ENDPOINT_URL_S3", s3.uri("").toString()));
            assertThat(run.state()).as(run.message().orElse("")).isEqualTo(RunState.DONE);
            assertThat(run.tasks().get(0).trust()).hasValue(Trust.SIGNATURE);
            assertThat(s3.requests("/roles-bucket/manifest.json")).filteredOn(r -> r.method().equals("GET"))
                    .hasSize(1).allSatisfy(r -> assertThat(r.header("Authorization")).hasValueSatisfying(
                            a -> assertThat(a).contains("AWS4-HMAC-SHA256 Credential=")));
            assertThat(s3.requests("/roles-bucket/collector.sh")).as("an s3:// origin is asked as S3's API says")
                    .isNotEmpty().extracting(TestHttpServer.Request::query).containsOnlyNulls();
        }
    }

    @Test
    void requireSignature_withAManifestRootKey_butAScriptInTheUserData_isRefused() throws Exception {
        try (MetadataEmulator imds = MetadataEmulator.builder().instanceId("i-inline")
                .userData("#!/bin/sh\necho inline\n").clock(time).start();
             MetadataClient metadata = MetadataClient.builder().endpoint(imds.endpoint()).clock(time).sleeper(time::sleep)
                     .build()) {
            RunStatus run = boot(metadata, "boot-1", Map.of("PATH", System.getenv("PATH")));
            assertThat(run.state()).isEqualTo(RunState.REFUSED);
            assertThat(run.message().orElse("")).contains("a manifest root key is configured, and no manifest can list a "
                    + "script carried in the user-data");
        }
    }
}
