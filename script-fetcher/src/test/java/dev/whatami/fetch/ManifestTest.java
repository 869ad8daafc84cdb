package dev.whatami.fetch;

import static dev.whatami.fetch.ManifestFiles.sig;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.fetch.ManifestFiles.Keys;
import dev.whatami.fetch.ManifestFiles.Manifest;
import dev.whatami.metadata.RetryPolicy;
import dev.whatami.status.Trust;
import dev.whatami.testsupport.FakeTime;
import dev.whatami.testsupport.TestHttpServer.Fault;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signed manifests: a script runs only when the manifest beside it, signed by a key that the root-signed keys
 * document lists, names its exact bytes under the name it was asked for; old, expired, revoked-key and tampered
 * manifests are refused, and a rotated key is accepted.
 */
class ManifestTest {
    private static final byte[] COLLECTOR = "#!/bin/sh\necho collector\n".getBytes(UTF_8);
    private static final byte[] WEB = "#!/bin/sh\necho web\n".getBytes(UTF_8);

    @TempDir
    Path dir;
    private final FileServer server = new FileServer();
    private final FakeTime time = new FakeTime(java.time.Instant.parse("2026-12-01T08:00:00Z"));
    private final MinisignSigner root = MinisignSigner.generate();
    private final MinisignSigner signer = MinisignSigner.generate();
    private Path state;
    private ScriptFetcher fetcher;
    /** Each boot fetches into a directory of its own, so that "nothing placed" speaks of this boot only. */
    private Path task;
    private int boots;

    @BeforeEach
    void files() throws Exception {
        state = dir.resolve("state/manifests.json");
        fetcher = newBoot();
        server.file("/roles/collector.sh", COLLECTOR).file("/roles/web.sh", WEB);
    }

    /** A fetcher as a boot builds it: the manifests it verified are forgotten, the state file is not. */
    private ScriptFetcher newBoot() {
        if (fetcher != null) {
            fetcher.close();
        }
        task = dir.resolve("task" + ++boots);
        return ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(ScriptFetcherTest.THREE)
                .manifestTrust(ManifestTrust.of(root.publicKey(), state)).build();
    }

    @AfterEach
    void stop() {
        fetcher.close();
        server.close();
    }

    private Manifest both() throws Exception {
        return new Manifest().file("collector.sh", COLLECTOR).file("web.sh", WEB);
    }

    private void serve(Keys keys, MinisignSigner by, Manifest manifest) {
        ManifestFiles.serve(server, "/roles/", root, keys, by, manifest);
    }

    private FetchResult fetch(String name) {
        return fetcher.fetch(FetchRequest.builder(server.url("/roles/" + name), task, name).build());
    }

    private void assertRefused(ThrowableAssert.ThrowingCallable call, RefusalReason reason, String... message)
            throws Exception {
        assertThatThrownBy(call).isInstanceOfSatisfying(FetchRefusedException.class, e -> {
            assertThat(e.reason()).isEqualTo(reason);
            assertThat(e.failure()).isEqualTo(FetchFailure.REFUSED);
            assertThat(e.getMessage()).contains(message);
        });
        if (Files.exists(task)) {
            try (Stream<Path> s = Files.list(task)) {
                assertThat(s.toList()).as("nothing placed").isEmpty();
            }
        }
    }

    @Test
    void listedScript_isPlaced_withTrustSignature_andTheVersionsAreRecorded() throws Exception {
        serve(new Keys().key(signer), signer, both().version(7));
        FetchResult r = fetch("collector.sh");
        assertThat(r.trust()).isEqualTo(Trust.SIGNATURE);
        assertThat(Files.readAllBytes(r.path())).isEqualTo(COLLECTOR);
        assertThat(Files.readString(state)).contains("\"version\" : 7").contains("/roles\"");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state))).isEqualTo("rw-------");
    }

    @Test
    void theFourFiles_areFetchedOncePerBoot_forEveryScriptOfTheDirectory() throws Exception {
        serve(new Keys().key(signer), signer, both());
        fetch("collector.sh");
        fetch("web.sh");
        assertThat(server.hits("/roles/manifest.json")).isEqualTo(1);
        assertThat(server.hits("/roles/keys.json.minisig")).isEqualTo(1);
    }

    @Test
    void tamperedScript_isRefused() throws Exception {
        serve(new Keys().key(signer), signer, both());
        server.file("/roles/collector.sh", "#!/bin/sh\necho pwned\n".getBytes(UTF_8));
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_MISMATCH, "are not the ones the manifest "
                + server.url("/roles/manifest.json") + " (\"roles\", version 1) lists for \"collector.sh\"");
    }

    @Test
    void anotherSignedScript_servedUnderTheName_isRefused_evenWithItsOwnValidSignature() throws Exception {
        serve(new Keys().key(signer), signer, both());
        server.file("/roles/collector.sh", WEB); // web.sh is listed and signed: not under this name
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_MISMATCH, "(sha256 "
                + ManifestFiles.sha256(WEB) + ") are not the ones", "lists for \"collector.sh\" (sha256 "
                + ManifestFiles.sha256(COLLECTOR) + ")");
    }

    @Test
    void perScriptSignatureForAnotherName_isRefusedToo_whenBothKeysAndManifestAreTrusted() throws Exception {
        Keys owner = new Keys();
        serve(owner.key(signer), signer, both());
        dev.whatami.fetch.Keys pem = new dev.whatami.fetch.Keys();
        server.file("/roles/collector.sh", WEB).file("/roles/collector.sh.sig", pem.signBase64(WEB));
        fetcher.close();
        fetcher = ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(ScriptFetcherTest.THREE)
                .trustedKeys(TrustedKeys.of("owner.pub", pem.publicPem()))
                .manifestTrust(ManifestTrust.of(root.publicKey(), state)).build();
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_MISMATCH, "lists for \"collector.sh\"");
    }

    @Test
    void unlistedName_isRefused_beforeItsBytesAreFetched() throws Exception {
        serve(new Keys().key(signer), signer, new Manifest().file("web.sh", WEB));
        assertRefused(() -> fetch("collector.sh"), RefusalReason.NOT_IN_MANIFEST, "lists no file \"collector.sh\"");
        assertThat(server.hits("/roles/collector.sh")).isZero();
    }

    @Test
    void tamperedManifest_isRefused() throws Exception {
        serve(new Keys().key(signer), signer, both());
        byte[] signed = both().json();
        String evil = new String(signed, UTF_8).replace(ManifestFiles.sha256(COLLECTOR),
                ManifestFiles.sha256("#!/bin/sh\necho pwned\n".getBytes(UTF_8)));
        server.file("/roles/manifest.json", evil.getBytes(UTF_8));
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_INVALID, "the file changed after it was "
                + "signed");
    }

    @Test
    void tamperedKeysDocument_isRefused_namingTheRootKey() throws Exception {
        MinisignSigner mine = MinisignSigner.generate();
        serve(new Keys().key(signer), signer, both());
        server.file("/roles/keys.json", new Keys().key(signer).key(mine).json());
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_INVALID, "is not signed by the root key "
                + root.publicKey().id() + " baked into this image");
    }

    @Test
    void keysDocumentSignedByAnotherKey_isRefused() throws Exception {
        MinisignSigner other = MinisignSigner.generate();
        Keys keys = new Keys().key(other);
        ManifestFiles.serve(server, "/roles/", other, keys, other, both());
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_INVALID, "it is signed by key "
                + other.publicKey().id() + ", not by " + root.publicKey().id());
    }

    @Test
    void manifestSignedByAnUnlistedKey_isRefused() throws Exception {
        MinisignSigner stranger = MinisignSigner.generate();
        serve(new Keys().key(signer), stranger, both());
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_INVALID, "signed by key "
                + stranger.publicKey().id() + ", which the keys document");
    }

    @Test
    void manifestSignedByTheRootKeyItself_isRefused_theRootOnlySignsKeys() throws Exception {
        serve(new Keys().key(signer), root, both());
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_INVALID, "does not list");
    }

    @Test
    void revokedKey_isRefused_evenWhileStillListed() throws Exception {
        serve(new Keys().key(signer).revoke(signer), signer, both());
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_KEY_REVOKED, "signed by key "
                + signer.publicKey().id() + ", which the keys document");
    }

    @Test
    void rotatedKey_isAccepted_andTheOldKeysManifestsAreNotAnyMore() throws Exception {
        serve(new Keys().version(1).key(signer), signer, both().version(1));
        assertThat(fetch("collector.sh").trust()).isEqualTo(Trust.SIGNATURE);

        MinisignSigner next = MinisignSigner.generate();
        serve(new Keys().version(2).key(next).revoke(signer), next, both().version(2));
        fetcher = newBoot();
        assertThat(fetch("collector.sh").trust()).isEqualTo(Trust.SIGNATURE);

        // the old keys document still lists the old key: rolled back, so refused
        serve(new Keys().version(1).key(signer), signer, both().version(3));
        fetcher = newBoot();
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_ROLLBACK, "is older than the keys document "
                + "this instance accepted before (version 2)");
        // and the current keys document refuses the old key's new manifest
        serve(new Keys().version(2).key(next).revoke(signer), signer, both().version(3));
        fetcher = newBoot();
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_KEY_REVOKED, "revokes");
    }

    @Test
    void olderManifest_onALaterBoot_isRefused_asRollback() throws Exception {
        serve(new Keys().key(signer), signer, both().version(5));
        fetch("collector.sh");
        serve(new Keys().key(signer), signer, both().version(4));
        fetcher = newBoot();
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_ROLLBACK, "(\"roles\", version 4) is older "
                + "than the manifest this instance accepted before (version 5)", state.toString());
    }

    @Test
    void anotherManifest_withTheSameVersion_isRefused() throws Exception {
        serve(new Keys().key(signer), signer, both().version(5));
        fetch("collector.sh");
        serve(new Keys().key(signer), signer, new Manifest().version(5).file("collector.sh", WEB));
        fetcher = newBoot();
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_ROLLBACK, "is not the version-5 manifest "
                + "this instance accepted before");
    }

    @Test
    void theSameManifest_onALaterBoot_isAccepted() throws Exception {
        serve(new Keys().key(signer), signer, both().version(5));
        fetch("collector.sh");
        fetcher = newBoot();
        assertThat(fetch("web.sh").trust()).isEqualTo(Trust.SIGNATURE);
    }

    @Test
    void aLaterBoot_withTheSameDocuments_verifiesNoSignatureAgain_norFetchesOne() throws Exception {
        serve(new Keys().key(signer), signer, both().version(5));
        fetch("collector.sh");
        server.file("/roles/keys.json.minisig", "garbage".getBytes(UTF_8))
                .file("/roles/manifest.json.minisig", "garbage".getBytes(UTF_8));
        fetcher = newBoot();
        assertThat(fetch("collector.sh").trust()).isEqualTo(Trust.SIGNATURE);
        assertThat(server.hits("/roles/keys.json.minisig")).isEqualTo(1);
        assertThat(server.hits("/roles/manifest.json.minisig")).isEqualTo(1);
        assertThat(server.hits("/roles/manifest.json")).isEqualTo(2);
    }

    @Test
    void aManifestAcceptedBefore_isRefused_onceItsKeyIsRevoked_thoughItsBytesAreTheSame() throws Exception {
        serve(new Keys().key(signer), signer, both().version(5));
        fetch("collector.sh");
        MinisignSigner next = MinisignSigner.generate();
        byte[] keys = new Keys().version(2).key(next).revoke(signer).json();
        server.file("/roles/keys.json", keys).file("/roles/keys.json.minisig", sig(root, keys));
        fetcher = newBoot();
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_KEY_REVOKED, "signed by key "
                + signer.publicKey().id());
    }

    @Test
    void expiredManifest_isRefused_asAFreeze() throws Exception {
        serve(new Keys().key(signer), signer, both().expires(time.instant().minusSeconds(1)));
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_EXPIRED, "expired at 2026-12-01T07:59:59Z "
                + "(this machine's clock says 2026-12-01T08:00:00Z)");
    }

    @Test
    void expiredKeysDocument_isRefused() throws Exception {
        serve(new Keys().key(signer).expires(time.instant().minus(Duration.ofDays(1))), signer, both());
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_EXPIRED, "the keys document",
                "expired at 2026-11-30T08:00:00Z");
    }

    @Test
    void signingKeyOutsideItsValidity_isRefused() throws Exception {
        serve(new Keys().key(signer, null, time.instant().minusSeconds(60)), signer, both());
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_EXPIRED, "lets sign only until "
                + "2026-12-01T07:59:00Z");
        fetcher = newBoot();
        serve(new Keys().version(2).key(signer, time.instant().plusSeconds(60), ManifestFiles.LATER), signer, both());
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_EXPIRED, "lets sign only from "
                + "2026-12-01T08:01:00Z");
    }

    @Test
    void mixedVersions_manifestOfOneVersion_signatureOfAnother_isRefused() throws Exception {
        serve(new Keys().key(signer), signer, both().version(2));
        server.file("/roles/manifest.json.minisig", sig(signer, both().version(1).json()));
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_INVALID, "the file changed after it was "
                + "signed");
    }

    @Test
    void mixedVersions_scriptOfANewerVersion_withTheOlderManifest_isRefused() throws Exception {
        serve(new Keys().key(signer), signer, both().version(1));
        server.file("/roles/collector.sh", "#!/bin/sh\necho collector v2\n".getBytes(UTF_8));
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_MISMATCH, "version 1");
    }

    @Test
    void mixedVersions_aSecondOriginOfTheSameSet_servingAnOlderVersion_inOneBoot_isRefused() throws Exception {
        serve(new Keys().key(signer), signer, both().version(3));
        try (FileServer stale = new FileServer()) {
            stale.file("/roles/web.sh", WEB);
            ManifestFiles.serve(stale, "/roles/", root, new Keys().key(signer), signer, both().version(2));
            fetch("collector.sh");
            task = dir.resolve("second-task"); // the same boot, another task
            assertRefused(() -> fetcher.fetch(FetchRequest.builder(stale.url("/roles/web.sh"), task, "web.sh")
                    .build()), RefusalReason.MANIFEST_ROLLBACK, "(version 3)");
        }
    }

    @Test
    void manifestForOtherOrigins_isRefused_andForThisOne_isAccepted() throws Exception {
        serve(new Keys().key(signer), signer, both().origin("https://files.example/roles/"));
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_INVALID, "is for https://files.example/roles/"
                + ", not for " + server.url("/roles/"));
        serve(new Keys().key(signer), signer, both().version(2).origin("https://files.example/roles/")
                .origin(server.url("/").toString()));
        fetcher = newBoot();
        assertThat(fetch("collector.sh").trust()).isEqualTo(Trust.SIGNATURE);
    }

    @Test
    void noManifest_isRefused_sayingWhatToPutThere() throws Exception {
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_MISSING, server.url("/roles/keys.json")
                + " does not exist; a manifest root key is configured", "(HTTP 404)");
        assertThat(server.hits("/roles/collector.sh")).isZero();
    }

    @Test
    void aManifestServerError_isNotARefusal_andIsTriedAgain() throws Exception {
        serve(new Keys().key(signer), signer, both());
        server.failOnce("/roles/manifest.json", 503);
        assertThat(fetch("collector.sh").trust()).isEqualTo(Trust.SIGNATURE);
        assertThat(server.hits("/roles/manifest.json")).isEqualTo(2);
    }

    // ---- which files a boot asks for, and how a failure of one ends it ----------------------------------------------

    /** A boot with one attempt, ended at {@code attemptTimeout} of real time (the watchdog's timer). */
    private ScriptFetcher oneAttempt(Duration attemptTimeout) {
        fetcher.close();
        return ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(RetryPolicy.none())
                .attemptTimeout(attemptTimeout).manifestTrust(ManifestTrust.of(root.publicKey(), state)).build();
    }

    @Test
    void aFirstBoot_asksForAllFourFiles_once_andALaterBoot_forTheTwoDocumentsOnly() throws Exception {
        serve(new Keys().key(signer), signer, both());
        fetch("collector.sh");
        assertThat(server.requests).filteredOn(p -> p.startsWith("/roles/") && !p.endsWith(".sh"))
                .containsExactlyInAnyOrder("/roles/keys.json", "/roles/keys.json.minisig", "/roles/manifest.json",
                        "/roles/manifest.json.minisig");
        int before = server.requests.size();
        fetcher = newBoot();
        fetch("collector.sh");
        assertThat(server.requests.subList(before, server.requests.size())).filteredOn(p -> !p.endsWith(".sh"))
                .containsExactly("/roles/keys.json", "/roles/manifest.json");
    }

    @Test
    void aFirstBoot_whoseManifestSignatureIsMissing_isRefused_namingIt() throws Exception {
        serve(new Keys().key(signer), signer, both());
        server.failOnce("/roles/manifest.json.minisig", 404);
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_MISSING,
                server.url("/roles/manifest.json.minisig") + " does not exist", "(HTTP 404)");
    }

    @Test
    void aFirstBoot_reportsTheKeysDocumentsFailure_withoutWaitingForItsSignature() throws Exception {
        serve(new Keys().key(signer), signer, both());
        server.failOnce("/roles/keys.json", 503).fault("/roles/keys.json.minisig", 1, Fault.hang());
        fetcher = oneAttempt(Duration.ofSeconds(30));
        long started = System.nanoTime();
        assertThatThrownBy(() -> fetch("collector.sh")).isInstanceOfSatisfying(FetchException.class, e -> {
            assertThat(e.failure()).isEqualTo(FetchFailure.SERVER_ERROR);
            assertThat(e.getMessage()).contains(server.url("/roles/keys.json") + ": ").doesNotContain("minisig");
        });
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("not the hung signature's 30 s deadline")
                .isLessThan(Duration.ofSeconds(15));
    }

    @Test
    void aFirstBoot_whoseManifestSignatureHangs_endsAtTheAttemptsDeadline_namingIt() throws Exception {
        serve(new Keys().key(signer), signer, both());
        server.fault("/roles/manifest.json.minisig", 1, Fault.hang());
        fetcher = oneAttempt(Duration.ofSeconds(2));
        long started = System.nanoTime();
        assertThatThrownBy(() -> fetch("collector.sh")).isInstanceOfSatisfying(FetchException.class, e -> {
            assertThat(e.failure()).isEqualTo(FetchFailure.TIMEOUT);
            assertThat(e.getMessage()).contains(server.url("/roles/manifest.json.minisig") + ": ",
                    "no complete answer by the attempt's deadline (attemptTimeout 2.0 s)");
        });
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(15));
        assertThat(server.hits("/roles/collector.sh")).isZero();
    }

    @Test
    void malformedManifest_isRefused_sayingWhy() throws Exception {
        byte[] m = ("{\"type\": \"whatami-manifest/1\", \"name\": \"roles\", \"version\": 1, \"expires\": "
                + "\"2027-01-01T00:00:00Z\", \"files\": {}, \"files\": {}}").getBytes(UTF_8);
        serve(new Keys().key(signer), signer, both());
        server.file("/roles/manifest.json", m).file("/roles/manifest.json.minisig", sig(signer, m));
        assertRefused(() -> fetch("collector.sh"), RefusalReason.MANIFEST_INVALID, "is not valid JSON",
                "Duplicate key (key 'files')");
    }

    @Test
    void scriptInTheUserData_isRefused_whenOnlyManifestsCanVouch() throws Exception {
        assertThatThrownBy(() -> fetcher.placeInline(COLLECTOR, URI.create("ec2:user-data"), task, "collector.sh")).isInstanceOfSatisfying(FetchRefusedException.class, e -> assertThat(e.reason())
                .isEqualTo(RefusalReason.MANIFEST_MISSING));
        assertThat(task.resolve("collector.sh")).doesNotExist();
    }

    @Test
    void requireSignature_isSatisfiedByAManifestRootKey() {
        ScriptFetcher f = ScriptFetcher.builder().requireSignature(true)
                .manifestTrust(ManifestTrust.of(root.publicKey(), state)).build();
        f.close();
        assertThat(f).isNotNull();
    }

    @Test
    void damagedStateFile_stopsTheFetch_sayingWhatToRemove() throws Exception {
        serve(new Keys().key(signer), signer, both());
        Files.createDirectories(state.getParent());
        Files.writeString(state, "{not json");
        assertThatThrownBy(() -> fetch("collector.sh")).isInstanceOfSatisfying(FetchException.class, e -> {
            assertThat(e.failure()).isEqualTo(FetchFailure.LOCAL_IO);
            assertThat(e.getMessage()).contains(state + " (the manifest versions this instance accepted) is damaged");
        });
    }

    @Test
    void rootKeyFile_isReadAsMinisignWritesIt_andOneOthersCanWriteIsRefused() throws Exception {
        Path pub = Files.writeString(dir.resolve("manifest-root.pub"), root.publicKey().fileText());
        Files.setPosixFilePermissions(pub, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        assertThat(ManifestTrust.fromFile(pub, state).root()).isEqualTo(root.publicKey());
        Files.setPosixFilePermissions(pub, PosixFilePermissions.fromString("rw-rw-rw-"));
        assertThatThrownBy(() -> ManifestTrust.fromFile(pub, state)).isInstanceOfSatisfying(FetchException.class,
                e -> assertThat(e.getMessage()).contains("the manifest root key " + pub + " can be written by others")
                        .contains("no manifest is trusted until then"));
    }

    private static byte[] vector(String name) throws Exception {
        try (java.io.InputStream in = ManifestTest.class.getResourceAsStream("/minisign/" + name)) {
            return in.readAllBytes();
        }
    }

    /** keys.json signed by Debian's minisign (prehashed), manifest.json by signify-openbsd: see make-vectors.sh. */
    @Test
    void aSetMadeWithMinisignAndSignify_isAccepted_andItsTamperedScriptIsNot() throws Exception {
        MinisignKey made = MinisignKey.parse(new String(vector("root.pub"), UTF_8), "root.pub");
        for (String f : new String[] {"keys.json", "keys.json.minisig", "manifest.json", "manifest.json.minisig",
                "collector.sh"}) {
            server.file("/set/" + f, vector("set/" + f));
        }
        fetcher.close();
        fetcher = ScriptFetcher.builder().clock(time).sleeper(time::sleep).manifestTrust(ManifestTrust.of(made, state))
                .build();
        FetchResult r = fetcher.fetch(FetchRequest.builder(server.url("/set/collector.sh"), task, "collector.sh")
                .build());
        assertThat(r.trust()).isEqualTo(Trust.SIGNATURE);
        server.file("/set/collector.sh", WEB); // other bytes than the set's
        task = dir.resolve("again");
        assertRefused(() -> fetcher.fetch(FetchRequest.builder(server.url("/set/collector.sh"), task, "collector.sh")
                .build()), RefusalReason.MANIFEST_MISMATCH, "lists for \"collector.sh\"");
    }
}
