package dev.whatami.fetch;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.fetch.ManifestFiles.Keys;
import dev.whatami.fetch.ManifestFiles.Manifest;
import dev.whatami.status.Trust;
import dev.whatami.testsupport.FakeTime;
import dev.whatami.testsupport.TestHttpServer;
import dev.whatami.userdata.Digest;
import dev.whatami.userdata.DigestAlgorithm;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Content-addressed URLs: when the fetcher knows the sha256 it expects (a pin, or the signed manifest's entry), it asks
 * a plain http(s) origin for {@code <url>?sha256=<hex>}, which whatami-server answers only while the file is that
 * version and a cache in front keeps for good. The address is a cache key only: the bytes are verified as without
 * it, a server that ignores the query still works, and a server without that version says so.
 */
class ContentAddressTest {
    private static final byte[] V1 = "#!/bin/sh\necho collector v1\n".getBytes(UTF_8);
    private static final byte[] V2 = "#!/bin/sh\necho collector v2\n".getBytes(UTF_8);

    @TempDir
    Path dir;
    private final FileServer server = new FileServer();
    private final FakeTime time = new FakeTime(Instant.parse("2026-12-01T08:00:00Z"));
    private final ScriptFetcher fetcher = ScriptFetcher.builder().clock(time).sleeper(time::sleep)
            .retryPolicy(ScriptFetcherTest.THREE).build();

    @AfterEach
    void stop() {
        fetcher.close();
        server.close();
    }

    private static Optional<Digest> pin(byte[] content) throws Exception {
        return Optional.of(new Digest(DigestAlgorithm.SHA256, ManifestFiles.sha256(content)));
    }

    private FetchRequest.Builder request(String path) {
        return FetchRequest.builder(server.url(path), dir, "c.sh");
    }

    @Test
    void aPinnedScript_isAskedForByItsContentAddress_andVerified() throws Exception {
        server.contentAddressedUpTo = Long.MAX_VALUE;
        server.file("/scriptserver/c.sh", V1);
        String upper = ManifestFiles.sha256(V1).toUpperCase(java.util.Locale.ROOT);

        FetchResult r = fetcher.fetch(request("/scriptserver/c.sh")
                .digest(Optional.of(new Digest(DigestAlgorithm.SHA256, upper))).build());

        assertThat(server.requestLines).containsExactly("GET /scriptserver/c.sh?sha256=" + ManifestFiles.sha256(V1));
        assertThat(Files.readAllBytes(r.path())).isEqualTo(V1);
        assertThat(r.trust()).isEqualTo(Trust.PIN);
        assertThat(r.source()).as("the result names the URL asked for, not the address")
                .isEqualTo(server.url("/scriptserver/c.sh"));
    }

    @Test
    void anUnpinnedScript_isAskedForByName() throws Exception {
        server.contentAddressedUpTo = Long.MAX_VALUE;
        server.file("/scriptserver/c.sh", V1);

        fetcher.fetch(request("/scriptserver/c.sh").build());

        assertThat(server.requestLines).containsExactly("GET /scriptserver/c.sh");
    }

    @Test
    void aSha512Pin_isNoSha256Address_soTheScriptIsAskedForByName() throws Exception {
        server.contentAddressedUpTo = Long.MAX_VALUE;
        server.file("/c.sh", V1);
        String sha512 = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-512")
                .digest(V1));

        FetchResult r = fetcher.fetch(request("/c.sh").digest(Optional.of(new Digest(DigestAlgorithm.SHA512, sha512)))
                .build());

        assertThat(server.requestLines).containsExactly("GET /c.sh");
        assertThat(r.trust()).isEqualTo(Trust.PIN);
    }

    @Test
    void aServerThatIgnoresTheQuery_stillServesThePinnedScript_verified() throws Exception {
        server.file("/c.sh", V1); // a plain static server: ?sha256= means nothing to it

        FetchResult r = fetcher.fetch(request("/c.sh").digest(pin(V1)).build());

        assertThat(server.requestLines).containsExactly("GET /c.sh?sha256=" + ManifestFiles.sha256(V1));
        assertThat(Files.readAllBytes(r.path())).isEqualTo(V1);
        assertThat(r.trust()).isEqualTo(Trust.PIN);
    }

    @Test
    void aServerThatIgnoresTheQueryAndServesAnotherVersion_isRefusedAsEver() throws Exception {
        server.file("/c.sh", V2);

        assertThatThrownBy(() -> fetcher.fetch(request("/c.sh").digest(pin(V1)).build()))
                .isInstanceOfSatisfying(IntegrityException.class, e -> {
                    assertThat(e.actual().hex()).isEqualTo(sha256(V2));
                    assertThat(e.getMessage()).isEqualTo(IntegrityException.message(server.url("/c.sh"),
                            e.expected(), e.actual()));
                });
        assertThat(server.requestLines).containsExactly("GET /c.sh?sha256=" + sha256(V1));
        assertThat(dir.resolve("c.sh")).doesNotExist();
    }

    @Test
    void aServerWithoutThePinnedVersion_answers404_andTheRefusalSaysItHasNoSuchVersion() throws Exception {
        server.contentAddressedUpTo = Long.MAX_VALUE;
        server.file("/scriptserver/c.sh", V2); // the file was replaced; the user-data still pins v1

        assertThatThrownBy(() -> fetcher.fetch(request("/scriptserver/c.sh").digest(pin(V1)).build()))
                .isInstanceOfSatisfying(IntegrityException.class, e -> {
                    assertThat(e.reason()).isEqualTo(RefusalReason.PIN_MISMATCH);
                    assertThat(e.expected().hex()).isEqualTo(sha256(V1));
                    assertThat(e.actual().hex()).isEqualTo(sha256(V2));
                    assertThat(e.attempts()).isEqualTo(1);
                })
                .hasMessageStartingWith(IntegrityException.message(server.url("/scriptserver/c.sh"),
                        new Digest(DigestAlgorithm.SHA256, sha256(V1)), new Digest(DigestAlgorithm.SHA256, sha256(V2))))
                .hasMessageContaining("The server does not have the version with sha256 " + sha256(V1) + ": it "
                        + "answered HTTP 404 to its content-addressed URL (" + server.url("/scriptserver/c.sh")
                        + "?sha256=" + sha256(V1) + "), and the file it serves by name is another version.");
        // asked by address, then by name (whose bytes were refused): no retry, nothing placed
        assertThat(server.requestLines).containsExactly("GET /scriptserver/c.sh?sha256=" + sha256(V1),
                "GET /scriptserver/c.sh");
        assertThat(dir.resolve("c.sh")).doesNotExist();
        assertThat(time.sleeps()).isEmpty();
    }

    @Test
    void a404ForTheAddress_thenTheRightBytesByName_isFetched_asForAFileTooLargeToBeAddressed() throws Exception {
        server.contentAddressedUpTo = 4; // whatami-server addresses only files it snapshots
        server.file("/c.sh", V1);

        FetchResult r = fetcher.fetch(request("/c.sh").digest(pin(V1)).build());

        assertThat(server.requestLines).containsExactly("GET /c.sh?sha256=" + sha256(V1), "GET /c.sh");
        assertThat(Files.readAllBytes(r.path())).isEqualTo(V1);
        assertThat(r.trust()).isEqualTo(Trust.PIN);
        assertThat(r.attempts()).isEqualTo(1);
    }

    @Test
    void noFileAtAll_isNotFound_notRefused() throws Exception {
        assertThatThrownBy(() -> fetcher.fetch(request("/gone.sh").digest(pin(V1)).build()))
                .isInstanceOfSatisfying(FetchException.class, e -> {
                    assertThat(e).isNotInstanceOf(FetchRefusedException.class);
                    assertThat(e.failure()).isEqualTo(FetchFailure.NOT_FOUND);
                })
                .hasMessageContaining("HTTP 404");
        assertThat(server.requestLines).containsExactly("GET /gone.sh?sha256=" + sha256(V1), "GET /gone.sh");
    }

    @Test
    void aUrlWithAQueryOfItsOwn_isSentAsItIs() throws Exception {
        server.contentAddressedUpTo = Long.MAX_VALUE;
        server.file("/c.sh", V1);

        fetcher.fetch(FetchRequest.builder(URI.create(server.url("/c.sh") + "?X-Amz-Signature=abc%2Bdef&v=1"), dir,
                "c.sh").digest(pin(V1)).build());

        assertThat(server.requestLines).as("a presigned URL's signature covers its query: nothing is added")
                .containsExactly("GET /c.sh?X-Amz-Signature=abc%2Bdef&v=1");
    }

    @Test
    void everyMirror_isAskedByTheAddressToo() throws Exception {
        server.contentAddressedUpTo = Long.MAX_VALUE;
        server.file("/mirror/c.sh", V1).failOnce("/c.sh", 503);

        FetchResult r = fetcher.fetch(request("/c.sh").mirrors(List.of(server.url("/mirror/c.sh"))).digest(pin(V1))
                .build());

        assertThat(r.source()).isEqualTo(server.url("/mirror/c.sh"));
        assertThat(server.requestLines).containsExactly("GET /c.sh?sha256=" + sha256(V1),
                "GET /mirror/c.sh?sha256=" + sha256(V1));
    }

    @Test
    void withTrustedKeys_theSignatureIsFetchedBesideTheNameNotTheAddress() throws Exception {
        dev.whatami.fetch.Keys owner = new dev.whatami.fetch.Keys();
        server.contentAddressedUpTo = Long.MAX_VALUE;
        server.file("/c.sh", V1).file("/c.sh.sig", owner.signBase64(V1));
        try (ScriptFetcher signed = ScriptFetcher.builder().clock(time).sleeper(time::sleep)
                .retryPolicy(ScriptFetcherTest.THREE).trustedKeys(TrustedKeys.of("owner.pub", owner.publicPem()))
                .build()) {
            FetchResult r = signed.fetch(request("/c.sh").digest(pin(V1)).build());
            assertThat(r.trust()).isEqualTo(Trust.SIGNATURE);
        }
        assertThat(server.requestLines).containsExactly("GET /c.sh?sha256=" + sha256(V1), "GET /c.sh.sig");
    }

    @Test
    void thePinnedVersionFromACache_withAnotherVersionsSignature_isRefused_sayingWhy() throws Exception {
        dev.whatami.fetch.Keys owner = new dev.whatami.fetch.Keys();
        // a cache keeps v1 for its address; the signature beside the name is v2's, the script having been replaced
        server.file("/c.sh", V1).file("/c.sh.sig", owner.signBase64(V2));
        try (ScriptFetcher signed = ScriptFetcher.builder().clock(time).sleeper(time::sleep)
                .retryPolicy(ScriptFetcherTest.THREE).trustedKeys(TrustedKeys.of("owner.pub", owner.publicPem()))
                .build()) {
            assertThatThrownBy(() -> signed.fetch(request("/c.sh").digest(pin(V1)).build()))
                    .isInstanceOfSatisfying(SignatureRefusedException.class,
                            e -> assertThat(e.reason()).isEqualTo(RefusalReason.SIGNATURE_INVALID))
                    .hasMessageContaining("Its bytes are the version with sha256 " + sha256(V1) + " (asked for by its "
                            + "content address), and its signature beside its name may be another version's: if the "
                            + "script was replaced on the server since, pin the new version.");
        }
        assertThat(dir.resolve("c.sh")).doesNotExist();
    }

    @Test
    void aResumedDownload_asksForTheSameAddress() throws Exception {
        byte[] big = new byte[64 * 1024];
        java.util.Arrays.fill(big, (byte) 'x');
        server.file("/c.sh", big).dropAfter("/c.sh", 1000);

        fetcher.fetch(request("/c.sh").digest(pin(big)).build());

        assertThat(server.requestLines).containsExactly("GET /c.sh?sha256=" + sha256(big),
                "GET /c.sh?sha256=" + sha256(big));
        assertThat(server.rangeRequests).hasSize(1).allSatisfy(r -> assertThat(r).startsWith("bytes=1000-"));
    }

    @Test
    void theManifestsDigest_isTheAddress_andTheManifestFilesAreAskedForByName() throws Exception {
        MinisignSigner root = MinisignSigner.generate();
        MinisignSigner signer = MinisignSigner.generate();
        server.contentAddressedUpTo = Long.MAX_VALUE;
        server.file("/roles/c.sh", V1);
        ManifestFiles.serve(server, "/roles/", root, new Keys().key(signer), signer, new Manifest().file("c.sh", V1));
        try (ScriptFetcher manifests = ScriptFetcher.builder().clock(time).sleeper(time::sleep)
                .retryPolicy(ScriptFetcherTest.THREE)
                .manifestTrust(ManifestTrust.of(root.publicKey(), dir.resolve("state/manifests.json"))).build()) {
            FetchResult r = manifests.fetch(FetchRequest.builder(server.url("/roles/c.sh"),
                    Files.createDirectories(dir.resolve("task")), "c.sh").build());
            assertThat(r.trust()).isEqualTo(Trust.SIGNATURE);
            assertThat(r.sha256()).isEqualTo(sha256(V1));
        }
        assertThat(server.requestLines).containsExactly("GET /roles/keys.json", "GET /roles/keys.json.minisig",
                "GET /roles/manifest.json", "GET /roles/manifest.json.minisig", "GET /roles/c.sh?sha256=" + sha256(V1));
    }

    @Test
    void aServerWithoutTheManifestsVersion_isRefusedAsNotTheManifestsBytes_sayingItHasNoSuchVersion()
            throws Exception {
        MinisignSigner root = MinisignSigner.generate();
        MinisignSigner signer = MinisignSigner.generate();
        server.contentAddressedUpTo = Long.MAX_VALUE;
        server.file("/roles/c.sh", V2); // replaced after the manifest listing v1 was signed
        ManifestFiles.serve(server, "/roles/", root, new Keys().key(signer), signer, new Manifest().file("c.sh", V1));
        Path task = Files.createDirectories(dir.resolve("task"));
        try (ScriptFetcher manifests = ScriptFetcher.builder().clock(time).sleeper(time::sleep)
                .retryPolicy(ScriptFetcherTest.THREE)
                .manifestTrust(ManifestTrust.of(root.publicKey(), dir.resolve("state/manifests.json"))).build()) {
            assertThatThrownBy(() -> manifests.fetch(FetchRequest.builder(server.url("/roles/c.sh"), task, "c.sh")
                    .build()))
                    .isInstanceOfSatisfying(FetchRefusedException.class,
                            e -> assertThat(e.reason()).isEqualTo(RefusalReason.MANIFEST_MISMATCH))
                    .hasMessageContaining("its bytes (sha256 " + sha256(V2) + ") are not the ones")
                    .hasMessageContaining("The server does not have the version with sha256 " + sha256(V1)
                            + ": it answered HTTP 404 to its content-addressed URL");
        }
        assertThat(server.requestLines).endsWith("GET /roles/c.sh?sha256=" + sha256(V1), "GET /roles/c.sh");
        assertThat(task.resolve("c.sh")).doesNotExist();
    }

    @Test
    void aFileUrl_isReadAsItIs() throws Exception {
        Path local = Files.write(dir.resolve("local.sh"), V1);
        Path into = Files.createDirectories(dir.resolve("into"));

        FetchResult r = fetcher.fetch(FetchRequest.builder(local.toUri(), into, "c.sh").digest(pin(V1)).build());

        assertThat(Files.readAllBytes(r.path())).isEqualTo(V1);
        assertThat(r.trust()).isEqualTo(Trust.PIN);
        assertThat(server.requestLines).isEmpty();
    }

    @Test
    void cloudOrigins_areAskedForAsTheirApisSay_withoutTheAddress() throws Exception {
        try (TestHttpServer cloud = TestHttpServer.start()) {
            cloud.file("/roles/c.sh", V1).file("/storage/v1/b/roles/o/c.sh", V1).file("/acct/roles/c.sh", V1);
            try (ScriptFetcher clouds = ScriptFetcher.builder().clock(time).sleeper(time::sleep)
                    .retryPolicy(ScriptFetcherTest.THREE)
                    .s3(() -> S3Access.builder().endpoint(cloud.uri("/")).credentials(CloudCredentials.anonymous())
                            .build())
                    .gcs(() -> GcsAccess.of(CloudCredentials.anonymous()).withEndpoint(cloud.uri("/")))
                    .azureBlob(() -> AzureBlobAccess.of(CloudCredentials.anonymous()).withEndpoint(cloud.uri("/")))
                    .build()) {
                for (URI u : List.of(URI.create("s3://roles/c.sh"), URI.create("gs://roles/c.sh"),
                        URI.create("https://acct.blob.core.windows.net/roles/c.sh"))) {
                    Path into = Files.createDirectories(dir.resolve("into-" + u.getScheme() + u.getHost()));
                    FetchResult r = clouds.fetch(FetchRequest.builder(u, into, "c.sh").digest(pin(V1)).build());
                    assertThat(Files.readAllBytes(r.path())).isEqualTo(V1);
                }
            }
            assertThat(cloud.requests()).extracting(r -> r.method() + " " + r.path() + (r.query() == null ? ""
                    : "?" + r.query())).containsExactly("GET /roles/c.sh", "GET /storage/v1/b/roles/o/c.sh?alt=media",
                    "GET /acct/roles/c.sh");
        }
    }

    private static String sha256(byte[] b) {
        try {
            return ManifestFiles.sha256(b);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
