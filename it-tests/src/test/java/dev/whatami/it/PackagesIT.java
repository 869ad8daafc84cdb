package dev.whatami.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The .debs `./mvnw package` built, checked as Debian checks packages: lintian finds nothing (its overrides, in
 * the package, say why), and every entry is root's with the build's fixed time stamp — what makes two builds of
 * the same sources byte-identical. (The units are checked by systemd-analyze verify in SystemdBootIT, where
 * they are installed.)
 */
class PackagesIT {
    private static boolean lintian() {
        boolean present = Files.isExecutable(Path.of("/usr/bin/lintian"));
        if (!present) {
            String line = "SKIPPED lintian on the packages: /usr/bin/lintian is not installed (apt-get install lintian)";
            System.err.println(line);
            assertThat(System.getenv("WHATAMI_REQUIRE_LINTIAN")).as(line + ", and WHATAMI_REQUIRE_LINTIAN=1")
                    .isNotEqualTo("1");
        }
        return present;
    }

    private static String run(List<String> cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("TZ", "UTC");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + "\n" + out).isZero();
        return out;
    }

    private static Path deb(String name) {
        Path deb = name.equals("agent") ? SystemdImages.AGENT_DEB : SystemdImages.SERVER_DEB;
        assertThat(deb).as("build the packages first (./mvnw -B verify builds them before this test)").exists();
        return deb;
    }

    @ParameterizedTest
    @ValueSource(strings = {"agent", "server"})
    void lintianIsClean(String name) throws Exception {
        assumeTrue(lintian(), "lintian is not installed");
        // errors and warnings fail (lintian's exit code); info and pedantic tags are printed
        String out = run(List.of("lintian", "--fail-on", "error,warning", "--info", "--pedantic",
                deb(name).toString()));
        System.out.println("lintian " + deb(name).getFileName() + ":\n" + out);
        assertThat(out.lines().filter(l -> l.matches("^[EWX]: .*"))).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"agent", "server"})
    void everyEntryIsRoots_withTheBuildsTimeStamp(String name) throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/dpkg-deb")), "no dpkg-deb here");
        List<String> entries = run(List.of("dpkg-deb", "--contents", deb(name).toString())).lines().toList();
        assertThat(entries).isNotEmpty().allSatisfy(line -> assertThat(line)
                .matches("^(-rw-r--r--|-rwxr-xr-x|drwxr-xr-x) root/root +\\d+ 2026-11-24 00:00 \\./.*"
                        // the agent's config may hold the report token, the server's names its tokens: root only
                        + "|^-rw-r----- root/root +\\d+ 2026-11-24 00:00 \\./etc/(whatami/agent\\.properties"
                        + "|default/whatami-server)$"
                        // the server's tokens directory (systemd's LoadCredential= hands them to the server)
                        + "|^drwx------ root/root +0 2026-11-24 00:00 \\./etc/whatami-server/tokens/$"));
    }
}
