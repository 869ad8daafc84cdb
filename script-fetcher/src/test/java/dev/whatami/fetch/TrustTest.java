package dev.whatami.fetch;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.whatami.status.Trust;
import dev.whatami.testsupport.FakeTime;
import dev.whatami.userdata.Digest;
import dev.whatami.userdata.DigestAlgorithm;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pins and Ed25519 signatures: a script that is not exactly what its owner signed or pinned is refused. */
class TrustTest {
    private static final byte[] SCRIPT = "#!/bin/sh\necho signed collector\n".getBytes(UTF_8);

    @TempDir
    Path dir;
    private final FileServer server = new FileServer();
    private final FakeTime time = new FakeTime();
    private Keys owner;
    private ScriptFetcher fetcher;

    @BeforeEach
    void keys() throws Exception {
        owner = new Keys();
        Path keyDir = Files.createDirectories(dir.resolve("trusted-keys"));
        Files.writeString(keyDir.resolve("owner.pub"), owner.publicPem());
        fetcher = ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(ScriptFetcherTest.THREE).trustedKeys(TrustedKeys.fromDirectory(keyDir)).build();
    }

    @AfterEach
    void stop() {
        fetcher.close();
        server.close();
    }

    private FetchResult fetch(Optional<Digest> pin) {
        return fetcher.fetch(FetchRequest.builder(server.url("/c.sh"), dir.resolve("task"), "c.sh").digest(pin).build());
    }

    private void assertNothingPlaced() throws Exception {
        Path task = dir.resolve("task");
        if (Files.exists(task)) {
            try (Stream<Path> s = Files.list(task)) {
                assertThat(s.toList()).isEmpty();
            }
        }
    }

    @Test
    void goodSignature_base64_isTrustedAsSignature() throws Exception {
        server.file("/c.sh", SCRIPT).file("/c.sh.sig", owner.signBase64(SCRIPT));
        FetchResult r = fetch(Optional.empty());
        assertThat(r.trust()).isEqualTo(Trust.SIGNATURE);
        assertThat(Files.readAllBytes(r.path())).isEqualTo(SCRIPT);
    }

    @Test
    void anEmptyFile_signed_isTrusted_andSignedOtherBytes_isRefused() throws Exception {
        // the JDK's Ed25519 refused even a good signature of no bytes when update() was never called
        server.file("/c.sh", new byte[0]).file("/c.sh.sig", owner.signBase64(new byte[0]));
        FetchResult r = fetch(Optional.empty());
        assertThat(r.trust()).isEqualTo(Trust.SIGNATURE);
        assertThat(Files.readAllBytes(r.path())).isEmpty();
        server.file("/c.sh", new byte[0]).file("/c.sh.sig", owner.signBase64(SCRIPT));
        assertThatThrownBy(() -> fetch(Optional.empty()))
                .isInstanceOfSatisfying(SignatureRefusedException.class,
                        e -> assertThat(e.reason()).isEqualTo(RefusalReason.SIGNATURE_INVALID));
    }

    @Test
    void signer_readsTheStreamOnce_andNamesTheKeyThatSigned() throws Exception {
        Keys other = new Keys();
        Path keyDir = Files.createDirectories(dir.resolve("two-keys"));
        Files.writeString(keyDir.resolve("a-other.pub"), other.publicPem());
        Files.writeString(keyDir.resolve("b-owner.pub"), owner.publicPem());
        TrustedKeys two = TrustedKeys.fromDirectory(keyDir);
        int[] reads = {0};
        java.io.InputStream counting = new java.io.ByteArrayInputStream(SCRIPT) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                reads[0]++;
                return super.read(b, off, len);
            }
        };
        assertThat(two.signer(owner.sign(SCRIPT), counting)).contains("b-owner.pub");
        assertThat(reads[0]).isEqualTo(2); // the bytes, then the end: once for both keys
        assertThat(two.signer(other.sign(SCRIPT), new java.io.ByteArrayInputStream(SCRIPT))).contains("a-other.pub");
        assertThat(two.signer(owner.sign("other".getBytes(UTF_8)), new java.io.ByteArrayInputStream(SCRIPT)))
                .isEmpty();
    }

    @Test
    void goodSignature_raw64Bytes_isAccepted() throws Exception {
        server.file("/c.sh", SCRIPT).file("/c.sh.sig", owner.sign(SCRIPT));
        assertThat(fetch(Optional.empty()).trust()).isEqualTo(Trust.SIGNATURE);
    }

    @Test
    void signatureOverOtherBytes_isRefused_andNothingIsPlaced() throws Exception {
        server.file("/c.sh", SCRIPT).file("/c.sh.sig", owner.signBase64("#!/bin/sh\necho the original\n".getBytes(UTF_8)));
        assertThatThrownBy(() -> fetch(Optional.empty()))
                .isInstanceOfSatisfying(SignatureRefusedException.class,
                        e -> assertThat(e.reason()).isEqualTo(RefusalReason.SIGNATURE_INVALID))
                .hasMessage("refused " + server.url("/c.sh") + ": its signature does not verify with any trusted key "
                        + "(owner.pub). The script changed after it was signed, or was signed by a key this machine "
                        + "does not trust; sign it again with the owner's key.");
        assertNothingPlaced();
    }

    @Test
    void signatureByAnUntrustedKey_isRefused() throws Exception {
        server.file("/c.sh", SCRIPT).file("/c.sh.sig", new Keys().signBase64(SCRIPT));
        assertThatThrownBy(() -> fetch(Optional.empty())).isInstanceOf(SignatureRefusedException.class)
                .hasMessageContaining("does not verify with any trusted key");
        assertNothingPlaced();
    }

    @Test
    void missingSignature_isRefused_evenWithAGoodPin() throws Exception {
        server.file("/c.sh", SCRIPT);
        Digest pin = new Digest(DigestAlgorithm.SHA256,
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(SCRIPT)));
        assertThatThrownBy(() -> fetch(Optional.of(pin)))
                .isInstanceOfSatisfying(SignatureRefusedException.class,
                        e -> assertThat(e.reason()).isEqualTo(RefusalReason.SIGNATURE_MISSING))
                .hasMessageContaining("has no signature at " + server.url("/c.sh") + ".sig (HTTP 404)")
                .hasMessageContaining("unsigned scripts never run here");
        assertNothingPlaced();
    }

    @Test
    void garbageSignatureFile_isRefusedSayingWhatASignatureIs() throws Exception {
        server.file("/c.sh", SCRIPT).file("/c.sh.sig", "not a signature".getBytes(UTF_8));
        assertThatThrownBy(() -> fetch(Optional.empty())).isInstanceOf(SignatureRefusedException.class)
                .hasMessageContaining("is not an Ed25519 signature (base64 of 64 bytes, or the raw 64 bytes)");
    }

    @Test
    void signedButWrongPin_isAnIntegrityRefusal() throws Exception {
        server.file("/c.sh", SCRIPT).file("/c.sh.sig", owner.signBase64(SCRIPT));
        assertThatThrownBy(() -> fetch(Optional.of(new Digest(DigestAlgorithm.SHA256, "1".repeat(64)))))
                .isInstanceOf(IntegrityException.class);
    }

    @Test
    void aMirrorWithTheSignedCopy_isUsedWhenThePrimaryIsTampered() throws Exception {
        server.file("/a/c.sh", "#!/bin/sh\nrm -rf /\n".getBytes(UTF_8)).file("/a/c.sh.sig", owner.signBase64(SCRIPT))
                .file("/b/c.sh", SCRIPT).file("/b/c.sh.sig", owner.signBase64(SCRIPT));
        FetchResult r = fetcher.fetch(FetchRequest.builder(server.url("/a/c.sh"), dir.resolve("task"), "c.sh")
                .mirrors(List.of(server.url("/b/c.sh"))).build());
        assertThat(r.source()).isEqualTo(server.url("/b/c.sh"));
        assertThat(Files.readAllBytes(r.path())).isEqualTo(SCRIPT);
    }

    @Test
    void signatureServerDown_isNotFetched_notRefused_andOnlyTheSignatureIsAskedAgain() throws Exception {
        server.file("/c.sh", SCRIPT).file("/c.sh.sig", owner.signBase64(SCRIPT)).failOnce("/c.sh.sig", 503);
        FetchResult r = fetch(Optional.empty());
        assertThat(r.trust()).isEqualTo(Trust.SIGNATURE);
        assertThat(r.attempts()).isEqualTo(2);
        assertThat(server.hits("/c.sh")).isEqualTo(1); // the script's bytes were kept while the signature was retried
        assertThat(server.hits("/c.sh.sig")).isEqualTo(2);
    }

    @Test
    void signatureAlwaysUnreachable_isNotFetched_withTheSignatureNamed() throws Exception {
        server.file("/c.sh", SCRIPT).always("/c.sh.sig", ex -> FileServer.respond(ex, 502, new byte[0],
                java.util.Map.of()));
        assertThatThrownBy(() -> fetch(Optional.empty()))
                .isInstanceOfSatisfying(FetchException.class, e -> {
                    assertThat(e).isNotInstanceOf(FetchRefusedException.class);
                    assertThat(e.failure()).isEqualTo(FetchFailure.SERVER_ERROR);
                })
                .hasMessageContaining("(3 attempts, last: its signature " + server.url("/c.sh.sig")
                        + ": HTTP 502 Bad Gateway)");
        assertNothingPlaced();
    }

    @Test
    void endlessSignature_isCutOffAndRefused() throws Exception {
        byte[] huge = new byte[1 << 20];
        java.util.Arrays.fill(huge, (byte) 'A');
        server.file("/c.sh", SCRIPT).file("/c.sh.sig", huge);
        assertThatThrownBy(() -> fetch(Optional.empty()))
                .isInstanceOfSatisfying(SignatureRefusedException.class,
                        e -> assertThat(e.reason()).isEqualTo(RefusalReason.SIGNATURE_INVALID))
                .hasMessageContaining(".sig is larger than 4096 bytes, so it is no Ed25519 signature");
    }

    @Test
    void aQueryStringUrl_cannotHaveADerivedSignature_andIsRefusedWithTheFix() {
        URI presigned = URI.create(server.url("/c.sh") + "?X-Amz-Signature=abc123");
        assertThatThrownBy(() -> fetcher.fetch(FetchRequest.builder(presigned, dir.resolve("task"), "c.sh").build()))
                .isInstanceOfSatisfying(SignatureRefusedException.class,
                        e -> assertThat(e.reason()).isEqualTo(RefusalReason.SIGNATURE_MISSING))
                .hasMessage("refused " + server.url("/c.sh") + "?***: trusted keys are configured and its URL has a "
                        + "query string, so no signature URL can be derived from it (a presigned URL does not cover "
                        + "a .sig beside it); give the signature in the user-data with sig=<base64> or sig=<url>.")
                .hasMessageNotContaining("abc123");
    }

    @Test
    void badKeyFiles_areExplained() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertThatThrownBy(() -> TrustedKeys.fromDirectory(empty))
                .isInstanceOfSatisfying(FetchException.class,
                        e -> assertThat(e.failure()).isEqualTo(FetchFailure.CONFIGURATION))
                .hasMessageContaining("holds no *.pub file");
        Files.writeString(empty.resolve("x.pub"), "hello");
        assertThatThrownBy(() -> TrustedKeys.fromDirectory(empty))
                .hasMessageContaining("x.pub is not a PEM public key");
        byte[] ec = java.security.KeyPairGenerator.getInstance("EC").generateKeyPair().getPublic().getEncoded();
        Files.writeString(empty.resolve("x.pub"), pem(ec));
        assertThatThrownBy(() -> TrustedKeys.fromDirectory(empty))
                .isInstanceOfSatisfying(FetchException.class,
                        e -> assertThat(e.failure()).isEqualTo(FetchFailure.CONFIGURATION))
                .hasMessageContaining("x.pub is not an Ed25519 public key (it is another kind of key")
                .hasMessageContaining("openssl genpkey -algorithm ed25519");
        byte[] noPoint = java.util.HexFormat.of().parseHex("302a300506032b6570032100"
                + "0200000000000000000000000000000000000000000000000000000000000000"); // y = 2: not on the curve
        Files.writeString(empty.resolve("x.pub"), pem(noPoint));
        assertThatThrownBy(() -> TrustedKeys.fromDirectory(empty))
                .hasMessageContaining("x.pub is not an Ed25519 public key (its 32 bytes are no point of the curve");
        Files.writeString(empty.resolve("x.pub"), "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n");
        assertThatThrownBy(() -> TrustedKeys.fromDirectory(empty))
                .hasMessageContaining("x.pub is not an Ed25519 public key (its body is not base64)");
    }

    private static String pem(byte[] der) {
        return "-----BEGIN PUBLIC KEY-----\n" + java.util.Base64.getMimeEncoder().encodeToString(der)
                + "\n-----END PUBLIC KEY-----\n";
    }

    @Test
    void requireSignature_withoutKeys_isAConfigurationError() {
        assertThatThrownBy(() -> ScriptFetcher.builder().requireSignature(true).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("requireSignature(true) needs trusted keys or a manifest root key: give "
                        + "trustedKeys(...) or manifestTrust(...) too");
    }

    @Test
    void requireHttps_refusesPlainHttp() {
        try (ScriptFetcher f = ScriptFetcher.builder().requireHttps(true).build()) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(server.url("/c.sh"), dir, "c.sh").build()))
                    .isInstanceOfSatisfying(FetchRefusedException.class,
                            e -> assertThat(e.reason()).isEqualTo(RefusalReason.POLICY))
                    .hasMessage("refused " + server.url("/c.sh") + ": https is required (requireHttps(true)) and "
                            + "this URL is http; serve the script over https, or do not require https");
        }
        assertThat(server.hits.get()).isZero();
    }

    /** Interoperability: keys and signatures made by the openssl command line verify here. */
    @Test
    void opensslSignature_verifies() throws Exception {
        boolean openssl = Files.isExecutable(Path.of("/usr/bin/openssl"));
        if (!openssl) {
            System.err.println("SKIPPED TrustTest.opensslSignature_verifies: /usr/bin/openssl is not installed "
                    + "(apt-get install openssl)");
        }
        assumeTrue(openssl, "openssl is not installed");
        Path key = dir.resolve("key.pem");
        Path pub = Files.createDirectories(dir.resolve("ossl-keys")).resolve("ops.pub");
        Path file = Files.write(dir.resolve("c.sh"), SCRIPT);
        Path sig = dir.resolve("c.sh.sig.raw");
        run("openssl", "genpkey", "-algorithm", "ed25519", "-out", key.toString());
        run("openssl", "pkey", "-in", key.toString(), "-pubout", "-out", pub.toString());
        run("openssl", "pkeyutl", "-sign", "-rawin", "-inkey", key.toString(), "-in", file.toString(), "-out",
                sig.toString());
        server.file("/c.sh", SCRIPT).file("/c.sh.sig", java.util.Base64.getEncoder()
                .encode(Files.readAllBytes(sig)));
        try (ScriptFetcher f = ScriptFetcher.builder().trustedKeys(TrustedKeys.fromDirectory(pub.getParent())).build()) {
            assertThat(f.fetch(FetchRequest.builder(server.url("/c.sh"), dir.resolve("t"), "c.sh").build()).trust())
                    .isEqualTo(Trust.SIGNATURE);
        }
    }

    static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
    }
}
