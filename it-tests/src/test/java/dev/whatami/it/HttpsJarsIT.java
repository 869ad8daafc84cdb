package dev.whatami.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.testsupport.Ports;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped jars over https: the server with a PKCS#12 key store, the agent trusting it through --ca-bundle
 * and refusing it without. Also proves the minimized agent jar still holds the whole TLS path.
 */
class HttpsJarsIT {
    @TempDir
    Path dir;

    private void keytool(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool")
                .toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("keytool " + String.join(" ", args) + ": " + out).isZero();
    }

    @Test
    void httpsScript_runsWhenItsCertificateIsTrusted_andIsRefusedOtherwise() throws Exception {
        keytool("-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                "CN=localhost", "-ext", "san=ip:127.0.0.1,dns:localhost", "-validity", "2", "-keystore",
                "server.p12", "-storepass", "changeit", "-storetype", "PKCS12");
        keytool("-exportcert", "-rfc", "-alias", "server", "-keystore", "server.p12", "-storepass", "changeit",
                "-file", "server.pem");
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("hello.sh"), "#!/bin/sh\necho over tls\n");
        int httpsPort = Ports.free();
        int imdsPort = Ports.free();
        try (Jars.Server files = new Jars.Server(Map.of("WHATAMI_TLS_KEYSTORE_PASSWORD", "changeit"), "--root",
                www.toString(), "--port", Integer.toString(httpsPort), "--bind", "127.0.0.1", "--tls-keystore",
                dir.resolve("server.p12").toString());
             Jars.Server imds = new Jars.Server("--root", www.toString(), "--port", Integer.toString(imdsPort),
                     "--bind", "127.0.0.1", "--metadata-user-data-text",
                     "https://127.0.0.1:" + httpsPort + "/scriptserver/hello.sh")) {
            assertThat(files.startupLine).startsWith("whatami-server listening on https://");

            Jars.Result trusted = agent(imdsPort, "trusted", "--ca-bundle", dir.resolve("server.pem").toString(),
                    "--require-https");
            assertThat(trusted.exitCode()).as(trusted.stderr()).isZero();
            assertThat(trusted.stdout()).contains("[hello.sh] over tls");

            Jars.Result untrusted = agent(imdsPort, "untrusted");
            assertThat(untrusted.exitCode()).as(untrusted.stderr()).isEqualTo(4);
            assertThat(untrusted.stdout()).doesNotContain("over tls");
            assertThat(untrusted.stderr()).contains("https://127.0.0.1:" + httpsPort + "/scriptserver/hello.sh");
        }
    }

    private Jars.Result agent(int imdsPort, String name, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("run", "--provider", "ec2", "--metadata-endpoint",
                "http://127.0.0.1:" + imdsPort, "--state-dir", dir.resolve(name + "/state").toString(), "--log-dir",
                dir.resolve(name + "/log").toString(), "--deadline", "20s"));
        args.addAll(List.of(extra));
        return Jars.run(Jars.AGENT, args.toArray(String[]::new));
    }
}
