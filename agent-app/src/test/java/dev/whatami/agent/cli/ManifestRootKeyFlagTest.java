package dev.whatami.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.fetch.MinisignSigner;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --manifest-root-key FILE}: a minisign public key, checked like the trusted keys. */
class ManifestRootKeyFlagTest {
    @TempDir
    Path dir;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int agent(String... args) {
        return WhatamiAgent.execute(Map.of(), args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void aMinisignKey_isTaken_andShownByPrintConfig() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        Path pub = Files.writeString(dir.resolve("root.pub"), MinisignSigner.generate().publicKey().fileText());
        assertThat(agent("run", "--print-config", "--manifest-root-key", pub.toString(), "--user-data-file",
                dir.resolve("ud").toString())).as(err.toString()).isZero();
        assertThat(out.toString()).contains("manifest-root-key").contains(pub.toString());
    }

    @Test
    void aFileThatIsNoMinisignKey_endsTheRunWithExit2_sayingHowToMakeOne() throws Exception {
        Path pem = Files.writeString(dir.resolve("root.pem"), "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n");
        assertThat(agent("run", "--manifest-root-key", pem.toString(), "--user-data-file",
                dir.resolve("ud").toString())).isEqualTo(2);
        assertThat(err.toString()).contains("--manifest-root-key " + pem + ": " + pem + " is not a minisign public "
                + "key").contains("minisign -G");
    }
}
