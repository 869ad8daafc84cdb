package dev.whatami.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class SigningCommandsTest {
    @TempDir
    Path dir;
    private final StringWriter err = new StringWriter();

    private int server(String... args) {
        CommandLine cl = WhatamiServer.commandLine();
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    private static boolean openssl() {
        boolean present = Files.isExecutable(Path.of("/usr/bin/openssl"));
        if (!present) {
            System.err.println("SKIPPED an openssl interoperability test: /usr/bin/openssl is not installed");
        }
        return present;
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
        return out;
    }

    @Test
    void keygen_writesAPrivateKey0600AndAPublicKey_andNeverOverwrites() throws Exception {
        assertThat(server("keygen", "--out", dir.toString())).isZero();
        Path key = dir.resolve("whatami-signing.key");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        assertThat(Files.readString(key)).startsWith("-----BEGIN PRIVATE KEY-----\n");
        assertThat(Files.readString(dir.resolve("whatami-signing.pub"))).startsWith("-----BEGIN PUBLIC KEY-----\n");
        String before = Files.readString(key);
        assertThat(server("keygen", "--out", dir.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("exists; not overwriting a key");
        assertThat(Files.readString(key)).isEqualTo(before);
    }

    @Test
    void signaturesMadeHere_verifyWithOpenssl() throws Exception {
        assumeTrue(openssl(), "openssl is not installed");
        server("keygen", "--out", dir.toString());
        Path script = Files.writeString(dir.resolve("collector.pl"), "print \"hi\\n\";\n");
        assertThat(server("sign", "--key", dir.resolve("whatami-signing.key").toString(), script.toString())).isZero();
        Path raw = Files.write(dir.resolve("raw.sig"), Base64.getMimeDecoder().decode(
                Files.readString(dir.resolve("collector.pl.sig")).strip()));
        assertThat(run("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", dir.resolve("whatami-signing.pub").toString(),
                "-rawin", "-in", script.toString(), "-sigfile", raw.toString())).contains("Signature Verified Successfully");
    }

    @Test
    void opensslKeys_signHere() throws Exception {
        assumeTrue(openssl(), "openssl is not installed");
        Path key = dir.resolve("k.pem");
        run("openssl", "genpkey", "-algorithm", "ed25519", "-out", key.toString());
        Path script = Files.writeString(dir.resolve("c.sh"), "echo hi\n");
        assertThat(server("sign", "--key", key.toString(), script.toString())).isZero();
        assertThat(Base64.getMimeDecoder().decode(Files.readString(dir.resolve("c.sh.sig")).strip())).hasSize(64);
    }

    @Test
    void sign_withABadKey_isExplained() throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.key"), "nope");
        Path script = Files.writeString(dir.resolve("c.sh"), "echo hi\n");
        assertThat(server("sign", "--key", bad.toString(), script.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("is not an Ed25519 private key in PEM");
        assertThat(dir.resolve("c.sh.sig")).doesNotExist();
    }
}
