package dev.whatami.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.whatami.fetch.FetchRefusedException;
import dev.whatami.fetch.FetchRequest;
import dev.whatami.fetch.ManifestTrust;
import dev.whatami.fetch.MinisignKey;
import dev.whatami.fetch.RefusalReason;
import dev.whatami.fetch.ScriptFetcher;
import dev.whatami.status.Trust;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code whatami-server manifest}: what it writes, the agent's fetcher accepts, and minisign verifies. */
class ManifestCommandsTest {
    @TempDir
    Path dir;
    private Path keys;
    private Path www;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int server(String... args) {
        CommandLine cl = WhatamiServer.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @BeforeEach
    void setUp() throws Exception {
        keys = dir.resolve("keys");
        www = Files.createDirectories(dir.resolve("www/scriptserver"));
        Files.writeString(www.resolve("collector.sh"), "#!/bin/sh\necho collector\n");
        Files.writeString(www.resolve("web.sh"), "#!/bin/sh\necho web\n");
        Files.writeString(www.resolve("web.sh.sig"), "not listed\n");
        Files.writeString(www.resolve(".hidden"), "not listed\n");
        assertThat(server("manifest", "keygen", "--out", keys.toString(), "--name", "root")).isZero();
        assertThat(server("manifest", "keygen", "--out", keys.toString(), "--name", "signing")).isZero();
    }

    private int keysDoc(String... more) {
        String[] base = {"manifest", "keys", "--root-key", keys.resolve("root.key").toString(), "--signing-key",
            keys.resolve("signing.pub").toString(), "--out", www.toString()};
        String[] all = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return server(all);
    }

    private int sign(String... more) {
        String[] base = {"manifest", "sign", "--key", keys.resolve("signing.key").toString(), "--dir", www.toString()};
        String[] all = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return server(all);
    }

    private ScriptFetcher agent() throws Exception {
        MinisignKey root = MinisignKey.parse(Files.readString(keys.resolve("root.pub")), "root.pub");
        return ScriptFetcher.builder().manifestTrust(ManifestTrust.of(root, dir.resolve("state/manifests.json")))
                .build();
    }

    @Test
    void keygen_writesASecretKey0600_andNeverOverwrites() throws Exception {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keys.resolve("root.key"))))
                .isEqualTo("rw-------");
        assertThat(Files.readString(keys.resolve("root.pub"))).startsWith("untrusted comment: minisign public key ");
        assertThat(server("manifest", "keygen", "--out", keys.toString(), "--name", "root")).isEqualTo(2);
        assertThat(err.toString()).contains("exists; not overwriting a key");
    }

    @Test
    void keysAndSign_makeASetTheAgentAccepts() throws Exception {
        assertThat(keysDoc()).isZero();
        assertThat(sign("--name", "roles")).isZero();
        assertThat(out.toString()).contains("(\"roles\", version 1, 2 file(s), expires ");
        String manifest = Files.readString(www.resolve("manifest.json"));
        assertThat(manifest).contains("\"collector.sh\"", "\"web.sh\"").doesNotContain("web.sh.sig", ".hidden",
                "keys.json");
        try (ScriptFetcher f = agent()) {
            assertThat(f.fetch(FetchRequest.builder(www.resolve("collector.sh").toUri(), dir.resolve("task"),
                    "collector.sh").build()).trust()).isEqualTo(Trust.SIGNATURE);
        }
    }

    @Test
    void aScriptChangedAfterSigning_isRefusedByTheAgent_untilSignedAgain() throws Exception {
        keysDoc();
        sign();
        Files.writeString(www.resolve("collector.sh"), "#!/bin/sh\necho changed\n");
        try (ScriptFetcher f = agent()) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(www.resolve("collector.sh").toUri(),
                    dir.resolve("task"), "collector.sh").build())).isInstanceOfSatisfying(FetchRefusedException.class,
                    e -> assertThat(e.reason()).isEqualTo(RefusalReason.MANIFEST_MISMATCH));
        }
        assertThat(sign()).isZero();
        assertThat(out.toString()).contains("version 2");
        try (ScriptFetcher f = agent()) {
            assertThat(f.fetch(FetchRequest.builder(www.resolve("collector.sh").toUri(), dir.resolve("task"),
                    "collector.sh").build()).trust()).isEqualTo(Trust.SIGNATURE);
        }
    }

    @Test
    void aVersionNotAboveThePrevious_isRefused() throws Exception {
        keysDoc();
        sign("--version", "5");
        assertThat(sign("--version", "5")).isEqualTo(2);
        assertThat(err.toString()).contains("--version 5 is not above the version of " + www.resolve("manifest.json")
                + " (5); instances that accepted that one would refuse it as a rollback");
        assertThat(keysDoc("--version", "1")).isEqualTo(2);
    }

    @Test
    void aKeyBothListedAndRevoked_isRefused() throws Exception {
        String id = MinisignKey.parse(Files.readString(keys.resolve("signing.pub")), "pub").id();
        assertThat(keysDoc("--revoke", id)).isEqualTo(2);
        assertThat(err.toString()).contains("is both listed and revoked");
        assertThat(www.resolve("keys.json")).doesNotExist();
    }

    @Test
    void badExpiry_isExplained() {
        assertThat(sign("--expires", "soon")).isEqualTo(2);
        assertThat(err.toString()).contains("--expires takes 30d, 12h, 90m or a UTC time");
    }

    @Test
    void whatItSigns_minisignVerifies() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/minisign")), "minisign is not installed");
        keysDoc();
        sign();
        for (String[] f : new String[][] {{"keys.json", "root.pub"}, {"manifest.json", "signing.pub"}}) {
            Process p = new ProcessBuilder("minisign", "-V", "-m", www.resolve(f[0]).toString(), "-p",
                    keys.resolve(f[1]).toString()).redirectErrorStream(true).start();
            String said = new String(p.getInputStream().readAllBytes(), UTF_8);
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(said).isZero();
            assertThat(said).contains("Signature and comment signature verified");
        }
    }
}
