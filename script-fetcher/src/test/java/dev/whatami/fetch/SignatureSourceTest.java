package dev.whatami.fetch;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.status.Trust;
import dev.whatami.testsupport.FakeTime;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Signatures for any URL (sig=<base64>, sig=<url>) and for scripts carried inline in the user-data. */
class SignatureSourceTest {
    private static final byte[] SCRIPT = "#!/bin/sh\necho presigned\n".getBytes(UTF_8);

    @TempDir
    Path dir;
    private final FileServer server = new FileServer();
    private final FakeTime time = new FakeTime();
    private Keys owner;
    private ScriptFetcher fetcher;

    @BeforeEach
    void keys() throws Exception {
        owner = new Keys();
        fetcher = ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(ScriptFetcherTest.THREE)
                .trustedKeys(TrustedKeys.of("owner.pub", owner.publicPem())).build();
    }

    @AfterEach
    void stop() {
        fetcher.close();
        server.close();
    }

    private URI presigned(String path) {
        return URI.create(server.url(path) + "?X-Amz-Signature=0123abcd&X-Amz-Expires=300");
    }

    @Test
    void aPresignedUrl_withTheSignatureInline_verifies() throws Exception {
        server.file("/c.sh", SCRIPT);
        String sig = Base64.getEncoder().encodeToString(owner.sign(SCRIPT));
        FetchResult r = fetcher.fetch(FetchRequest.builder(presigned("/c.sh"), dir, "c.sh")
                .signature(SignatureSource.parse(sig)).build());
        assertThat(r.trust()).isEqualTo(Trust.SIGNATURE);
        assertThat(server.requests).containsExactly("/c.sh"); // no .sig was asked for
    }

    @Test
    void aPresignedUrl_withTheSignatureAtItsOwnPresignedUrl_verifies() throws Exception {
        server.file("/c.sh", SCRIPT).file("/sigs/c.sh.sig", owner.signBase64(SCRIPT));
        FetchResult r = fetcher.fetch(FetchRequest.builder(presigned("/c.sh"), dir, "c.sh")
                .signature(SignatureSource.parse(presigned("/sigs/c.sh.sig").toString())).build());
        assertThat(r.trust()).isEqualTo(Trust.SIGNATURE);
        assertThat(server.requests).containsExactly("/c.sh", "/sigs/c.sh.sig");
    }

    @Test
    void anInlineSignatureOverOtherBytes_isRefused_onEveryMirror() throws Exception {
        server.file("/a/c.sh", SCRIPT).file("/b/c.sh", SCRIPT);
        SignatureSource wrong = new SignatureSource.Inline(owner.sign("other".getBytes(UTF_8)));
        assertThatThrownBy(() -> fetcher.fetch(FetchRequest.builder(server.url("/a/c.sh"), dir, "c.sh")
                .mirrors(List.of(server.url("/b/c.sh"))).signature(wrong).build()))
                .isInstanceOfSatisfying(SignatureRefusedException.class,
                        e -> assertThat(e.reason()).isEqualTo(RefusalReason.SIGNATURE_INVALID));
        assertThat(dir.resolve("c.sh")).doesNotExist();
    }

    @Test
    void sigValues_areParsed_andBadOnesExplained() throws Exception {
        byte[] raw = owner.sign(SCRIPT);
        assertThat(SignatureSource.parse(Base64.getEncoder().encodeToString(raw)))
                .isInstanceOfSatisfying(SignatureSource.Inline.class, i -> assertThat(i.signature()).isEqualTo(raw));
        assertThat(SignatureSource.parse("s3://roles/c.sh.sig")).isEqualTo(new SignatureSource.At(
                URI.create("s3://roles/c.sh.sig")));
        assertThatThrownBy(() -> SignatureSource.parse("not-a-signature"))
                .hasMessage("sig= takes the base64 of a 64-byte Ed25519 signature (88 characters, as whatami-server "
                        + "sign prints it) or the signature file's URL");
        assertThatThrownBy(() -> new SignatureSource.Inline(new byte[10])).hasMessageContaining("64 bytes, got 10");
    }

    @Test
    void anInlineScript_withItsSignature_isTrustedAsSignature() throws Exception {
        FetchResult r = fetcher.placeInline(SCRIPT, URI.create("imds:user-data"), dir, "inline.sh",
                Optional.of(owner.signBase64(SCRIPT)));
        assertThat(r.trust()).isEqualTo(Trust.SIGNATURE);
        assertThat(Files.readAllBytes(r.path())).isEqualTo(SCRIPT);
    }

    @Test
    void anInlineScript_withoutOrWithABadSignature_isRefused_onceKeysAreTrusted() throws Exception {
        assertThatThrownBy(() -> fetcher.placeInline(SCRIPT, URI.create("imds:user-data"), dir, "inline.sh"))
                .isInstanceOfSatisfying(SignatureRefusedException.class,
                        e -> assertThat(e.reason()).isEqualTo(RefusalReason.SIGNATURE_MISSING))
                .hasMessage("refused the script inline.sh carried in the user-data: trusted keys are configured and "
                        + "it carries no signature; sign it (whatami-server sign) and give the signature with it in "
                        + "the user-data");
        assertThatThrownBy(() -> fetcher.placeInline(SCRIPT, URI.create("imds:user-data"), dir, "inline.sh",
                Optional.of(owner.signBase64("echo other".getBytes(US_ASCII)))))
                .isInstanceOfSatisfying(SignatureRefusedException.class,
                        e -> assertThat(e.reason()).isEqualTo(RefusalReason.SIGNATURE_INVALID));
        assertThat(dir.resolve("inline.sh")).doesNotExist();
    }

    @Test
    void withoutKeys_anInlineScriptIsTrustedAsUserData() {
        try (ScriptFetcher plain = ScriptFetcher.builder().build()) {
            assertThat(plain.placeInline(SCRIPT, URI.create("imds:user-data"), dir, "inline.sh").trust())
                    .isEqualTo(Trust.USER_DATA);
        }
    }
}
