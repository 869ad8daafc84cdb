package dev.whatami.fetch.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.fetch.MinisignKey;
import dev.whatami.fetch.MinisignSigner;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/**
 * minisign and signify files as Debian's minisign 0.11 and signify-openbsd made them (src/test/resources/minisign,
 * remade by its make-vectors.sh): read, verified, and made here the same way.
 */
class MinisignTest {
    private static byte[] vector(String name) throws IOException {
        try (InputStream in = MinisignTest.class.getResourceAsStream("/minisign/" + name)) {
            return in.readAllBytes();
        }
    }

    private static String text(String name) throws IOException {
        return new String(vector(name), UTF_8);
    }

    @Test
    void minisignPublicKey_idIsPrintedAsMinisignPrintsIt() throws Exception {
        String file = text("minisign.pub");
        MinisignKey key = MinisignKey.parse(file, "minisign.pub");
        assertThat(file).startsWith("untrusted comment: minisign public key " + key.id() + "\n");
        assertThat(key.fileText()).isEqualTo(file);
    }

    @Test
    void prehashedSignature_minisignsDefault_verifies_withItsTrustedComment() throws Exception {
        MinisignSignature sig = MinisignSignature.parse(vector("data.txt.minisig"));
        assertThat(sig.prehashed()).isTrue();
        assertThat(sig.trustedComment()).contains("file:data.txt");
        sig.verify(MinisignKey.parse(text("minisign.pub"), "pub"), vector("data.txt"));
    }

    @Test
    void legacySignature_minisignL_verifies() throws Exception {
        MinisignSignature sig = MinisignSignature.parse(vector("data.txt.legacy.minisig"));
        assertThat(sig.prehashed()).isFalse();
        sig.verify(MinisignKey.parse(text("minisign.pub"), "pub"), vector("data.txt"));
    }

    @Test
    void signifySignature_verifies() throws Exception {
        MinisignSignature sig = MinisignSignature.parse(vector("data.txt.sig"));
        assertThat(sig.trustedComment()).isEmpty();
        sig.verify(MinisignKey.parse(text("signify.pub"), "signify.pub"), vector("data.txt"));
    }

    @Test
    void tamperedData_isRefused() throws Exception {
        byte[] data = vector("data.txt");
        data[0] ^= 1;
        MinisignKey key = MinisignKey.parse(text("minisign.pub"), "pub");
        for (String f : new String[] {"data.txt.minisig", "data.txt.legacy.minisig"}) {
            MinisignSignature sig = MinisignSignature.parse(vector(f));
            assertThatThrownBy(() -> sig.verify(key, data)).isInstanceOf(MinisignSignature.Invalid.class)
                    .hasMessageContaining("the file changed after it was signed");
        }
    }

    @Test
    void tamperedTrustedComment_isRefused() throws Exception {
        String file = text("data.txt.minisig").replace("trusted comment: file:data.txt",
                "trusted comment: file:other.txt");
        MinisignSignature sig = MinisignSignature.parse(file.getBytes(UTF_8));
        assertThatThrownBy(() -> sig.verify(MinisignKey.parse(text("minisign.pub"), "pub"), vector("data.txt")))
                .hasMessageContaining("trusted comment was changed");
    }

    @Test
    void anotherKeysSignature_isRefused_namingBothIds() throws Exception {
        MinisignKey signify = MinisignKey.parse(text("signify.pub"), "signify.pub");
        MinisignSignature sig = MinisignSignature.parse(vector("data.txt.minisig"));
        assertThatThrownBy(() -> sig.verify(signify, vector("data.txt")))
                .hasMessage("it is signed by key " + sig.keyIdHex() + ", not by " + signify.id());
    }

    @Test
    void notASignature_saysWhy() {
        assertThatThrownBy(() -> MinisignSignature.parse("hello\n".getBytes(UTF_8)))
                .hasMessageContaining("untrusted comment");
        assertThatThrownBy(() -> MinisignSignature.parse(new byte[MinisignSignature.MAX_BYTES + 1]))
                .hasMessageContaining("larger than");
        assertThatThrownBy(() -> MinisignKey.parse("untrusted comment: x\nnot base64!\n", "k.pub"))
                .hasMessageContaining("k.pub is not a minisign public key");
    }

    @Test
    void minisignsUnencryptedSecretKey_isRead_andSignsAsMinisignDoes() throws Exception {
        MinisignSigner signer = MinisignSigner.parse(text("minisign.key"), "minisign.key");
        MinisignKey pub = MinisignKey.parse(text("minisign.pub"), "pub");
        assertThat(signer.publicKey()).isEqualTo(pub);
        String made = signer.sign(vector("data.txt"), "file:data.txt");
        // Ed25519 is deterministic: the same key, bytes and comment give minisign's own file, byte for byte
        assertThat(made.substring(made.indexOf('\n'))).isEqualTo(text("data.txt.minisig").substring(
                text("data.txt.minisig").indexOf('\n')));
    }

    @Test
    void generatedKey_roundTripsThroughItsFile_andVerifies() throws Exception {
        MinisignSigner signer = MinisignSigner.generate();
        MinisignSigner again = MinisignSigner.parse(signer.secretKeyFileText(), "generated");
        assertThat(again.publicKey()).isEqualTo(signer.publicKey());
        assertThat(again.toString()).doesNotContain(signer.secretKeyFileText().split("\n")[1]);
        byte[] data = "x".getBytes(UTF_8);
        MinisignSignature.parse(again.sign(data, "t").getBytes(UTF_8)).verify(signer.publicKey(), data);
    }

    @Test
    void damagedSecretKey_isRefused() throws Exception {
        String[] lines = text("minisign.key").split("\n");
        byte[] b = java.util.Base64.getDecoder().decode(lines[1]);
        b[70] ^= 1;
        String damaged = lines[0] + "\n" + java.util.Base64.getEncoder().encodeToString(b) + "\n";
        assertThatThrownBy(() -> MinisignSigner.parse(damaged, "k")).hasMessageContaining("damaged");
    }
}
