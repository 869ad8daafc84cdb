package dev.whatami.fetch.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.fetch.TrustedKeys;
import java.io.ByteArrayInputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.Base64;
import java.util.HashSet;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A staged script's signature is checked on the bytes read back from the staging file, and only if they are the
 * bytes that were hashed as they arrived.
 */
class StagingSignatureTest {
    private static final byte[] SCRIPT = "#!/bin/sh\necho signed\n".getBytes(UTF_8);

    @TempDir
    Path dir;

    @Test
    void theStagedBytes_areVerifiedFromTheFile_andRefusedWhenTheyChangedOnDisk() throws Exception {
        KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        TrustedKeys keys = TrustedKeys.of("owner.pub", "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(pair.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n");
        Signature signer = Signature.getInstance("Ed25519");
        signer.initSign(pair.getPrivate());
        signer.update(SCRIPT);
        byte[] sig = signer.sign();
        try (Staging staging = new Staging(dir, "c.sh", Optional.empty(), 1 << 20, keys, new HashSet<>())) {
            staging.copyFrom(new ByteArrayInputStream(SCRIPT), "c.sh", n -> { });
            assertThat(staging.signer(sig)).contains("owner.pub");
            assertThat(staging.signer(new byte[64])).isEmpty();
            // someone rewrites the staging file between its arrival and the check: refused, whatever it holds now
            Path part = only(dir);
            Files.write(part, "#!/bin/sh\necho other\n".getBytes(UTF_8), StandardOpenOption.TRUNCATE_EXISTING);
            assertThatThrownBy(() -> staging.signer(sig)).isInstanceOf(Staging.LocalIOException.class)
                    .hasMessageContaining("its bytes changed on disk after they were received");
        }
    }

    private static Path only(Path dir) throws Exception {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            Path found = null;
            for (Path p : s) {
                assertThat(found).isNull();
                found = p;
            }
            return found;
        }
    }
}
