package dev.whatami.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.emulator.MetadataService;
import dev.whatami.server.ScriptServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Signed scripts run; unsigned, re-written or inline ones never do once keys are trusted. */
class AgentTrustTest {
    @TempDir
    Path dir;
    private Path root;
    private Path keys;
    private ScriptServer server;

    @BeforeEach
    void setUp() throws Exception {
        root = Files.createDirectories(dir.resolve("www"));
        Files.writeString(root.resolve("signed.sh"), "touch \"$MARKER\"\n");
        Files.writeString(root.resolve("unsigned.sh"), "touch \"$MARKER\"\n");
        Path ops = dir.resolve("operator");
        CommandLine srv = dev.whatami.server.WhatamiServer.commandLine();
        srv.setOut(new PrintWriter(new StringWriter(), true));
        assertThat(srv.execute("keygen", "--out", ops.toString())).isZero();
        assertThat(srv.execute("sign", "--key", ops.resolve("whatami-signing.key").toString(),
                root.resolve("signed.sh").toString())).isZero();
        keys = Files.createDirectories(dir.resolve("trusted-keys"));
        Files.copy(ops.resolve("whatami-signing.pub"), keys.resolve("owner.pub"));
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private int boot(String userDataTemplate, String... extra) throws Exception {
        int port = dev.whatami.testsupport.Ports.free();
        server = ScriptServer.builder(root).bind("127.0.0.1").port(port).metadataService(MetadataService.builder()
                .instanceId("i-trust").userData(userDataTemplate.replace("SRV", "127.0.0.1:" + port)).build())
                .build().start();
        CommandLine cl = WhatamiAgent.commandLine(Map.of("PATH", System.getenv("PATH"), "MARKER",
                dir.resolve("ran").toString()));
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(new StringWriter(), true));
        List<String> args = new ArrayList<>(List.of("run", "--provider", "ec2", "--metadata-endpoint",
                server.uri().toString(), "--state-dir", dir.resolve("state").toString(), "--log-dir",
                dir.resolve("log").toString()));
        args.addAll(List.of(extra));
        return cl.execute(args.toArray(String[]::new));
    }

    private Map<String, Object> status() throws Exception {
        return StatusJson.read(dir.resolve("state/status.json"));
    }

    @Test
    void signedScript_runs_withTrustSignature() throws Exception {
        assertThat(boot("signed.sh SRV", "--trusted-keys", keys.toString())).isZero();
        assertThat(dir.resolve("ran")).exists();
        assertThat(status().get("tasks").toString()).contains("trust=signature");
    }

    @Test
    void unsignedScript_isRefusedWithExit4_andNeverRuns() throws Exception {
        assertThat(boot("unsigned.sh SRV", "--trusted-keys", keys.toString())).isEqualTo(4);
        assertThat(dir.resolve("ran")).doesNotExist();
        assertThat(status()).containsEntry("state", "refused");
        assertThat(status().get("message").toString()).contains("unsigned.sh: trusted keys are configured and it "
                + "has no signature at http://127.0.0.1:");
    }

    @Test
    void rewrittenAfterSigning_isRefused() throws Exception {
        Files.writeString(root.resolve("signed.sh"), "touch \"$MARKER\"; echo evil\n");
        assertThat(boot("signed.sh SRV", "--trusted-keys", keys.toString())).isEqualTo(4);
        assertThat(dir.resolve("ran")).doesNotExist();
        assertThat(status().get("message").toString()).contains("does not verify with any trusted key (owner.pub)");
    }

    @Test
    void inlineScript_withoutSignature_isRefusedOnceKeysAreTrusted() throws Exception {
        assertThat(boot("#!/bin/sh\ntouch \"$MARKER\"\n", "--trusted-keys", keys.toString())).isEqualTo(4);
        assertThat(dir.resolve("ran")).doesNotExist();
        assertThat(status().get("message").toString()).contains("trusted keys are configured and it carries no "
                + "signature; sign it (whatami-server sign) and put the signature on its second line");
    }

    /** Signs {@code content} with the operator's key as {@code whatami-server sign} does; the base64 it writes. */
    private String signature(String content) throws Exception {
        Path f = Files.createDirectories(dir.resolve("signing")).resolve("s" + System.nanoTime());
        Files.writeString(f, content);
        CommandLine srv = dev.whatami.server.WhatamiServer.commandLine();
        srv.setOut(new PrintWriter(new StringWriter(), true));
        assertThat(srv.execute("sign", "--key", dir.resolve("operator/whatami-signing.key").toString(),
                f.toString())).isZero();
        return Files.readString(f.resolveSibling(f.getFileName() + ".sig")).strip();
    }

    @Test
    void inlineScript_signedOnItsSecondLine_runs_withTrustSignature() throws Exception {
        String script = "#!/bin/sh\ntouch \"$MARKER\"\n";
        String userData = "#!/bin/sh\n#whatami-signature: " + signature(script) + "\ntouch \"$MARKER\"\n";
        assertThat(boot(userData, "--trusted-keys", keys.toString())).isZero();
        assertThat(dir.resolve("ran")).exists();
        assertThat(status().get("tasks").toString()).contains("trust=signature");
    }

    @Test
    void inlineScript_changedAfterSigning_isRefused() throws Exception {
        String sig = signature("#!/bin/sh\ntouch \"$MARKER\"\n");
        assertThat(boot("#!/bin/sh\n#whatami-signature: " + sig + "\ntouch \"$MARKER\"; echo evil\n",
                "--trusted-keys", keys.toString())).isEqualTo(4);
        assertThat(dir.resolve("ran")).doesNotExist();
        assertThat(status()).containsEntry("state", "refused");
        assertThat(status().get("message").toString()).doesNotContain("evil");
    }

    @Test
    void sigInTheUserDataLine_vouchesForAScriptWithNoSigFile() throws Exception {
        String sig = signature(Files.readString(root.resolve("unsigned.sh")));
        assertThat(boot("unsigned.sh SRV sig=" + sig, "--trusted-keys", keys.toString())).isZero();
        assertThat(dir.resolve("ran")).exists();
        assertThat(status().get("tasks").toString()).contains("trust=signature");
    }

    @Test
    void sigAtAUrlOfItsOwn_isFetchedAndChecked() throws Exception {
        Files.writeString(root.resolve("elsewhere.sig"), signature("something else\n") + "\n");
        assertThat(boot("unsigned.sh SRV sig=http://SRV/scriptserver/elsewhere.sig", "--trusted-keys", keys.toString()))
                .isEqualTo(4);
        assertThat(dir.resolve("ran")).doesNotExist();
        assertThat(status().get("message").toString()).contains("does not verify with any trusted key (owner.pub)");
        Files.writeString(root.resolve("elsewhere.sig"), signature(Files.readString(root.resolve("unsigned.sh"))));
        server.close();
        assertThat(boot("unsigned.sh SRV sig=http://SRV/scriptserver/elsewhere.sig", "--trusted-keys", keys.toString())).isZero();
        assertThat(dir.resolve("ran")).exists();
    }

    @Test
    void requireSignature_withoutKeys_refusesEverything() throws Exception {
        assertThat(boot("signed.sh SRV", "--require-signature")).isEqualTo(4);
        assertThat(status().get("message").toString()).contains("a signature is required (requireSignature) "
                + "but no trusted key is configured").contains("--trusted-keys");
        assertThat(dir.resolve("ran")).doesNotExist();
    }

    @Test
    void requireHttps_refusesPlainHttp() throws Exception {
        assertThat(boot("signed.sh SRV", "--require-https")).isEqualTo(4);
        assertThat(status().get("message").toString()).contains("https is required (requireHttps(true))");
    }
}
