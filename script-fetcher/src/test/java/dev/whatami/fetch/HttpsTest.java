package dev.whatami.fetch;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.status.Trust;
import dev.whatami.testsupport.FakeTime;
import dev.whatami.testsupport.TestHttpServer;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** https with a CA made here by the JDK's keytool: trusted through --ca-bundle, never downgraded to http. */
class HttpsTest {
    @TempDir
    static Path pki;
    static TestHttpServer https;
    static FileServer plain;
    static Path caPem;
    static final byte[] SCRIPT = "#!/bin/sh\necho over tls\n".getBytes(UTF_8);

    static void keytool(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(pki.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), UTF_8);
        p.waitFor(60, TimeUnit.SECONDS);
        assertThat(p.exitValue()).as("keytool " + String.join(" ", args) + ": " + out).isZero();
    }

    @BeforeAll
    static void start() throws Exception {
        String pass = "changeit";
        keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                "CN=whatami test CA", "-ext", "bc:c", "-validity", "2", "-keystore", "ca.p12", "-storepass", pass,
                "-storetype", "PKCS12");
        keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", "ca.p12", "-storepass", pass, "-file", "ca.pem");
        keytool("-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                "CN=localhost", "-validity", "2", "-keystore", "server.p12", "-storepass", pass, "-storetype", "PKCS12");
        keytool("-certreq", "-alias", "server", "-keystore", "server.p12", "-storepass", pass, "-file", "server.csr");
        keytool("-gencert", "-alias", "ca", "-keystore", "ca.p12", "-storepass", pass, "-infile", "server.csr",
                "-outfile", "server.pem", "-rfc", "-validity", "2", "-ext", "san=ip:127.0.0.1,dns:localhost");
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", "ca.pem", "-keystore", "server.p12",
                "-storepass", pass);
        keytool("-importcert", "-alias", "server", "-file", "server.pem", "-keystore", "server.p12", "-storepass",
                pass);
        caPem = pki.resolve("ca.pem");

        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(pki.resolve("server.p12"))) {
            ks.load(in, pass.toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pass.toCharArray());
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);

        plain = new FileServer().file("/c.sh", SCRIPT);
        https = TestHttpServer.startHttps(ctx).fallback(TestHttpServer.answer(200, SCRIPT, Map.of()))
                .answer("/downgrade.sh", 302, new byte[0], Map.of("Location", plain.url("/c.sh").toString()));
    }

    @AfterAll
    static void stop() {
        https.close();
        plain.close();
    }

    static URI url(String path) {
        return https.uri(path);
    }

    @TempDir
    Path dir;

    @Test
    void httpsWithTheCaBundle_isTrustedAsTransport() throws Exception {
        try (ScriptFetcher f = ScriptFetcher.builder().caBundle(caPem).requireHttps(true).build()) {
            FetchResult r = f.fetch(FetchRequest.builder(url("/c.sh"), dir, "c.sh").build());
            assertThat(r.trust()).isEqualTo(Trust.TRANSPORT);
            assertThat(Files.readAllBytes(r.path())).isEqualTo(SCRIPT);
        }
    }

    @Test
    void httpsWithoutTrustingTheCa_isNotFetched_notRetried_andFixingTheBundleFixesIt() throws Exception {
        FakeTime time = new FakeTime();
        try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep).build()) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(url("/c.sh"), dir, "c.sh").build()))
                    .isInstanceOfSatisfying(FetchException.class, e -> {
                        assertThat(e).isNotInstanceOf(FetchRefusedException.class);
                        assertThat(e.failure()).isEqualTo(FetchFailure.TLS);
                        assertThat(e.attempts()).isEqualTo(1);
                    })
                    // JDK 25 puts the alert first: "SSLHandshakeException: (certificate_unknown) PKIX path ..."
                    .hasMessageContaining("(its certificate is not trusted here (SSLHandshakeException: ")
                    .hasMessageContaining("PKIX path building failed")
                    .hasMessageEndingWith("Give the fetcher the CA that issued the server's certificate "
                            + "(caBundle(...)), or fix the certificate; nothing ran, and the next run tries again.");
        }
        assertThat(time.sleeps()).isEmpty(); // the same trust store will not trust it a second later
        assertThat(dir.resolve("c.sh")).doesNotExist();
        try (ScriptFetcher f = ScriptFetcher.builder().caBundle(caPem).build()) {
            assertThat(f.fetch(FetchRequest.builder(url("/c.sh"), dir, "c.sh").build()).trust())
                    .isEqualTo(Trust.TRANSPORT);
        }
    }

    @Test
    void redirectFromHttpsToHttp_isRefused() {
        try (ScriptFetcher f = ScriptFetcher.builder().caBundle(caPem).build()) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(url("/downgrade.sh"), dir, "c.sh").build()))
                    .isInstanceOfSatisfying(FetchRefusedException.class,
                            e -> assertThat(e.reason()).isEqualTo(RefusalReason.POLICY))
                    .hasMessage("refused " + url("/downgrade.sh") + ": refusing a redirect from https to plain http ("
                            + plain.url("/c.sh") + "), which would give up the transport's protection; serve the "
                            + "file over https there, or name the http URL in the user-data if that is really meant");
        }
        assertThat(plain.hits.get()).isZero();
    }
}
