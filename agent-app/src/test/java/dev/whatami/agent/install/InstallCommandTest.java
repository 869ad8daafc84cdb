package dev.whatami.agent.install;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.agent.cli.WhatamiAgent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code install}: the package's layout into a root, the units and the launcher from one source, rc.local. */
class InstallCommandTest {
    @TempDir
    Path dir;
    private Path image;
    private Path jar;
    private StringWriter out;
    private StringWriter err;

    /** An image with a JRE where Debian puts it: /usr/bin/java -> /etc/alternatives/java -> the JDK's (absolute). */
    @BeforeEach
    void image() throws Exception {
        image = dir.resolve("image");
        Path real = Files.createDirectories(image.resolve("usr/lib/jvm/java-17/bin")).resolve("java");
        Files.writeString(real, "#!/bin/sh\n");
        Files.setPosixFilePermissions(real, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createDirectories(image.resolve("etc/alternatives"));
        Files.createSymbolicLink(image.resolve("etc/alternatives/java"), Path.of("/usr/lib/jvm/java-17/bin/java"));
        Files.createDirectories(image.resolve("usr/bin"));
        Files.createSymbolicLink(image.resolve("usr/bin/java"), Path.of("/etc/alternatives/java"));
        jar = Files.write(dir.resolve("whatami-agent.jar"), new byte[] {'P', 'K', 3, 4});
    }

    private int install(String... args) {
        out = new StringWriter();
        err = new StringWriter();
        List<String> all = new ArrayList<>(List.of("install"));
        all.addAll(List.of(args));
        return WhatamiAgent.execute(Map.of(), all.toArray(String[]::new), new PrintWriter(out, true),
                new PrintWriter(err, true));
    }

    private String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void systemd_laysOutThePackagesFiles_theUnitsWorldReadable_andEnablesThem() throws Exception {
        assertThat(install("--systemd", "--root", image.toString(), "--jar", jar.toString(), "--no-cds"))
                .as(err.toString()).isZero();
        Path unit = image.resolve("etc/systemd/system/whatami.service");
        assertThat(Files.readString(unit)).isEqualTo(Layout.resource("whatami.service"));
        assertThat(mode(unit)).isEqualTo("rw-r--r--");
        assertThat(Files.readString(unit)).contains("Wants=network-online.target\nAfter=network-online.target\n")
                .contains("ConditionPathExists=!/etc/whatami/disabled\n")
                .contains("Type=exec\nExecStart=/usr/bin/whatami-agent run\n").contains("RemainAfterExit=yes\n")
                .contains("KillMode=process\nTasksMax=infinity\n")
                .contains("StandardOutput=journal+console\nStandardError=journal+console\n")
                .contains("WantedBy=multi-user.target").doesNotContain("TimeoutStartSec=0");
        assertThat(Files.readSymbolicLink(image.resolve("etc/systemd/system/multi-user.target.wants/whatami.service")))
                .isEqualTo(Path.of("/etc/systemd/system/whatami.service"));
        assertThat(image.resolve("etc/systemd/system/whatami-cds.service")).as("--no-cds").doesNotExist();

        Path launcher = image.resolve("usr/bin/whatami-agent");
        assertThat(Files.readString(launcher)).isEqualTo(Layout.resource("whatami-agent"));
        assertThat(mode(launcher)).isEqualTo("rwxr-xr-x");
        Path installedJar = image.resolve("usr/share/whatami/whatami-agent.jar");
        assertThat(Files.readAllBytes(installedJar)).isEqualTo(Files.readAllBytes(jar));
        assertThat(mode(installedJar)).isEqualTo("rw-r--r--");
        assertThat(image.resolve("etc/whatami/trusted-keys")).isDirectory();
        assertThat(mode(image.resolve("etc/whatami/trusted-keys"))).isEqualTo("rwxr-xr-x");
        assertThat(out.toString()).contains("write " + installedJar + " (mode rw-r--r--)\n");
    }

    @Test
    void systemd_withCds_enablesTheArchiveUnit_andDefersTheArchiveWhenItCannotBeTrainedInTheRoot()
            throws Exception {
        assertThat(install("--systemd", "--root", image.toString(), "--jar", jar.toString())).as(err.toString())
                .isZero();
        Path cds = image.resolve("etc/systemd/system/whatami-cds.service");
        assertThat(Files.readString(cds)).isEqualTo(Layout.resource("whatami-cds.service"))
                .contains("ExecStart=/usr/bin/whatami-agent cds\n");
        assertThat(mode(cds)).isEqualTo("rw-r--r--");
        assertThat(image.resolve("etc/systemd/system/multi-user.target.wants/whatami-cds.service")).isSymbolicLink();
        // this image has no /bin/sh: the launcher cannot run in a chroot of it (nor can chroot run unprivileged)
        assertThat(out.toString()).contains("the class cache is built at first boot by whatami-cds.service "
                + "(here: chroot " + image + " /usr/bin/whatami-agent cds exited ");

        // again with --no-cds: the archive unit goes
        assertThat(install("--systemd", "--root", image.toString(), "--jar", jar.toString(), "--no-cds")).isZero();
        assertThat(cds).doesNotExist();
        assertThat(image.resolve("etc/systemd/system/multi-user.target.wants/whatami-cds.service")).doesNotExist();
        assertThat(out.toString()).contains("remove " + cds);
    }

    @Test
    void java_givenAsTheBootedSystemSeesIt_isWrittenIntoTheLauncher_andMustExistInTheRoot() throws Exception {
        assertThat(install("--systemd", "--root", image.toString(), "--jar", jar.toString(), "--no-cds", "--java",
                "/usr/lib/jvm/java-17/bin/java")).as(err.toString()).isZero();
        assertThat(Files.readString(image.resolve("usr/bin/whatami-agent")))
                .contains("\njava=${WHATAMI_JAVA:-/usr/lib/jvm/java-17/bin/java}\n");

        assertThat(install("--systemd", "--root", image.toString(), "--jar", jar.toString(), "--java",
                "/opt/jdk/bin/java")).isEqualTo(2);
        assertThat(err.toString()).startsWith("whatami-agent: --java /opt/jdk/bin/java does not exist in " + image
                + " (looked at " + image.resolve("opt/jdk/bin/java") + "); install a JRE 17+ there (apt-get install "
                + "openjdk-17-jre-headless) or give --java as the booted system sees it\n");

        Files.delete(image.resolve("usr/lib/jvm/java-17/bin/java")); // /usr/bin/java now dangles inside the root
        assertThat(install("--rc-local", "--root", image.toString(), "--jar", jar.toString())).isEqualTo(2);
        assertThat(err.toString()).startsWith("whatami-agent: --java /usr/bin/java does not exist in " + image);
        assertThat(image.resolve("etc/rc.local")).doesNotExist();

        assertThat(install("--rc-local", "--root", image.toString(), "--java", "java")).isEqualTo(2);
        assertThat(err.toString()).startsWith("whatami-agent: --java java is not an absolute path");
    }

    @Test
    void inRoot_followsLinksInsideTheRoot_neverOut() throws Exception {
        Path root = image.toAbsolutePath();
        assertThat(Layout.inRoot(root, "/usr/bin/java")).isEqualTo(root.resolve("usr/lib/jvm/java-17/bin/java"));
        Files.createSymbolicLink(root.resolve("usr/bin/up"), Path.of("../../../../../../../etc/alternatives/java"));
        assertThat(Layout.inRoot(root, "/usr/bin/up")).isEqualTo(root.resolve("usr/lib/jvm/java-17/bin/java"));
        Files.createSymbolicLink(root.resolve("usr/bin/loop"), Path.of("/usr/bin/loop"));
        assertThat(Layout.inRoot(root, "/usr/bin/loop")).isNull();
        assertThat(Layout.inRoot(root, "/usr/bin/none")).isNull();
    }

    @Test
    void rcLocal_isIdempotent_runsTheLauncherInAGroupOfItsOwn_beforeExit0_andAppendsNothingToAgentLog()
            throws Exception {
        Files.writeString(Files.createDirectories(image.resolve("etc")).resolve("rc.local"),
                "#!/bin/sh -e\necho existing\nexit 0\n");
        for (int i = 0; i < 2; i++) {
            assertThat(install("--rc-local", "--root", image.toString(), "--jar", jar.toString(), "--no-cds"))
                    .as(err.toString()).isZero();
        }
        assertThat(Files.readString(image.resolve("etc/rc.local"))).isEqualTo("#!/bin/sh -e\necho existing\n"
                + RcLocal.BEGIN + "\n"
                + "# the agent in a process group of its own; if a signal kills it, the script it was running dies too\n"
                + "setsid sh -c '/usr/bin/whatami-agent run; [ $? -lt 128 ] || kill -KILL 0' </dev/null &\n"
                + RcLocal.END + "\nexit 0\n");
        assertThat(mode(image.resolve("etc/rc.local"))).isEqualTo("rwxr-xr-x");
        assertThat(out.toString()).contains("updated " + image.resolve("etc/rc.local"));
        assertThat(image.resolve("usr/bin/whatami-agent")).exists();

        assertThat(RcLocal.withBlock("", true)).isEqualTo("#!/bin/sh -e\n" + RcLocal.BEGIN + "\n"
                + "# the agent in a process group of its own; if a signal kills it, the script it was running dies too\n"
                + "setsid sh -c '/usr/bin/whatami-agent run; [ $? -lt 128 ] || kill -KILL 0; /usr/bin/whatami-agent cds "
                + ">/dev/null 2>&1' </dev/null &\n" + RcLocal.END + "\n");
    }

    @Test
    void dryRun_printsThePlan_andChangesNothing() throws Exception {
        Path empty = dir.resolve("nothing-here");
        Files.createDirectories(empty.resolve("usr/bin"));
        Files.copy(image.resolve("usr/lib/jvm/java-17/bin/java"), empty.resolve("usr/bin/java"));
        assertThat(install("--systemd", "--dry-run", "--root", empty.toString(), "--jar", jar.toString()))
                .as(err.toString()).isZero();
        assertThat(out.toString()).contains("would write " + empty.resolve("etc/systemd/system/whatami.service")
                + " (mode rw-r--r--)\n").contains("would link " + empty.resolve(
                        "etc/systemd/system/multi-user.target.wants/whatami.service") + " -> /etc/systemd/system/"
                + "whatami.service\n").contains("would create " + empty.resolve("etc/whatami/trusted-keys") + "/\n");
        try (var files = Files.walk(empty)) {
            assertThat(files.count()).isEqualTo(4); // the root, usr, usr/bin and java
        }
    }

    @Test
    void cdsArchive_goesWithCdsOnly_andCdsOnlyNeedsIt() {
        assertThat(install("--systemd", "--root", image.toString(), "--jar", jar.toString(), "--cds-archive", "/x.jsa"))
                .isEqualTo(2);
        assertThat(err.toString()).startsWith("whatami-agent: --cds-archive goes with --cds-only");
        assertThat(install("--cds-only")).isEqualTo(2);
        assertThat(err.toString()).startsWith("whatami-agent: --cds-only needs --cds-archive FILE");
        assertThat(install("--cds-only", "--cds-archive", "/x.jsa", "--dry-run", "--jar", "/j.jar")).isZero();
        assertThat(out.toString()).isEqualTo("would build the AppCDS archive /x.jsa for /j.jar and /usr/bin/java\n");
    }

    @Test
    void help_printsNoPicocliWarnings() {
        PrintStream saved = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            assertThat(install("--help")).isZero();
        } finally {
            System.setErr(saved);
        }
        assertThat(captured.toString(StandardCharsets.UTF_8) + err).doesNotContain("WARN");
        assertThat(out.toString()).contains("--no-cds").contains("half as fast");
    }

    @Test
    void launcher_hasTheBootFlags() {
        assertThat(Layout.resource("whatami-agent")).contains("\nflags=\"" + InstallCommand.JVM_FLAGS + "\"\n")
                .contains("\nprops=\"" + InstallCommand.BOOT_PROPERTIES + "\"\n")
                .contains("\nmain=" + dev.whatami.agent.cli.WhatamiAgent.class.getName() + "\n");
    }

    @Test
    void launcher_compileCommands_nameClassesThatExist() throws Exception {
        // a CompileCommand naming a class that was renamed or moved does nothing, silently
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("-XX:CompileCommand=option,([\\w/$]+)\\.")
                .matcher(InstallCommand.JVM_FLAGS);
        int named = 0;
        while (m.find()) {
            assertThat(Class.forName(m.group(1).replace('/', '.'))).isNotNull();
            named++;
        }
        assertThat(named).isEqualTo(1);
        assertThat(InstallCommand.JVM_FLAGS).contains("-XX:CompileCommand=quiet ");
    }

    // ---- the launcher itself, run by sh with its paths moved into a temporary directory ----

    private Path launcherJar;
    private Path cache;
    private Path calls;

    /** How the launcher names the jar and the main class (the jar is there once {@link #launch} ran). */
    private String main() {
        return " -cp " + launcherJar + " dev.whatami.agent.cli.WhatamiAgent";
    }

    private String launch(String... args) throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        calls = dir.resolve("java-calls");
        Path fakeJava = bin.resolve("java");
        if (!Files.exists(fakeJava)) {
            Files.writeString(fakeJava, "#!/bin/sh\necho \"$*\" >> " + calls + "\n");
            Files.setPosixFilePermissions(fakeJava, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        launcherJar = dir.resolve("share/whatami-agent.jar");
        cache = dir.resolve("cache");
        if (!Files.exists(launcherJar)) {
            Files.createDirectories(launcherJar.getParent());
            Files.write(launcherJar, new byte[] {1, 2, 3});
        }
        String text = Layout.resource("whatami-agent")
                .replace("\njar=/usr/share/whatami/whatami-agent.jar\n", "\njar=" + launcherJar + "\n")
                .replace("\ncache=/var/cache/whatami\n", "\ncache=" + cache + "\n");
        Path launcher = Files.writeString(dir.resolve("launcher"), text);
        List<String> cmd = new ArrayList<>(List.of("sh", launcher.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("WHATAMI_JAVA", fakeJava.toString());
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        String called = Files.exists(calls) ? Files.readString(calls) : "";
        Files.deleteIfExists(calls);
        return called;
    }

    /** The name the launcher gives the archive of the current jar and JVM: sizes and mtimes (what stat prints). */
    private Path stamped() throws Exception {
        return stamped("jsa");
    }

    private Path stamped(String kind) throws Exception {
        Path java = dir.resolve("bin/java");
        return cache.resolve("whatami-agent." + Files.size(launcherJar) + "-"
                + Files.getLastModifiedTime(launcherJar).toInstant().getEpochSecond() + "." + Files.size(java) + "-"
                + Files.getLastModifiedTime(java).toInstant().getEpochSecond() + "." + kind);
    }

    @Test
    void launcher_passesTheArchiveOnlyWhenItWasBuiltForThisJarAndThisJvm() throws Exception {
        String flags = InstallCommand.JVM_FLAGS;
        String props = InstallCommand.BOOT_PROPERTIES;
        // the JVM's home, as its release file names it: a JDK 17
        Files.writeString(dir.resolve("release"), "IMPLEMENTOR=\"x\"\nJAVA_VERSION=\"17.0.15\"\n");
        assertThat(launch("run", "--dry-run")).isEqualTo(flags + " " + props + main() + " run --dry-run\n");

        Files.createDirectories(cache);
        Path archive = Files.writeString(stamped(), "archive");
        assertThat(launch("run")).isEqualTo(flags + " " + props + " -XX:SharedArchiveFile=" + archive
                + " -Xshare:auto -Xlog:cds*=off" + main() + " run\n");

        // a jar put in its place (a new mtime): the old archive no longer matches, and is not passed
        Files.setLastModifiedTime(launcherJar, FileTime.from(Instant.parse("2030-01-01T00:00:00Z")));
        assertThat(launch("status")).isEqualTo(flags + " " + props + main() + " status\n");

        // `cds` builds the archive for this jar and JVM, and removes the stale one first
        assertThat(launch("cds")).isEqualTo(flags + " -jar " + launcherJar + " install --cds-only --jar " + launcherJar
                + " --java " + dir.resolve("bin/java") + " --cds-archive " + stamped() + "\n");
        assertThat(archive).doesNotExist();
        // with the archive there, `cds` does nothing (one stat at boot); --force builds it anyway
        Files.writeString(stamped(), "archive");
        assertThat(launch("cds")).isEmpty();
        assertThat(launch("cds", "--force")).contains("install --cds-only");
    }

    @Test
    void launcher_onJdk25AndLater_buildsAndPassesAnAotCache() throws Exception {
        String flags = InstallCommand.JVM_FLAGS;
        String props = InstallCommand.BOOT_PROPERTIES;
        Files.writeString(dir.resolve("release"), "JAVA_VERSION=\"25.0.3\"\n");
        launch("version");
        Files.createDirectories(cache);
        Path appCds = Files.writeString(stamped("jsa"), "an archive of this JVM's earlier release");
        assertThat(launch("cds", "--force")).isEqualTo(flags + " -jar " + launcherJar + " install --cds-only --jar "
                + launcherJar + " --java " + dir.resolve("bin/java") + " --cds-archive " + stamped("aot") + "\n");
        assertThat(appCds).as("the other kind goes too").doesNotExist();

        Path aot = Files.writeString(stamped("aot"), "cache");
        // a bad cache is skipped (AOTMode=auto, not on) and the JVM says nothing of it on the agent's output
        assertThat(launch("status")).isEqualTo(flags + " " + props + " -XX:AOTCache=" + aot
                + " -XX:AOTMode=auto -Xlog:aot*=off -Xlog:cds*=off" + main() + " status\n");
        assertThat(launch("cds")).as("there: nothing to build").isEmpty();

        // a new JVM (its binary replaced): no cache for it yet, none passed, and `cds` builds one for it
        Files.setLastModifiedTime(dir.resolve("bin/java"), FileTime.from(Instant.parse("2030-01-01T00:00:00Z")));
        assertThat(launch("status")).isEqualTo(flags + " " + props + main() + " status\n");
        assertThat(launch("cds")).endsWith(" --cds-archive " + stamped("aot") + "\n");
        assertThat(aot).doesNotExist();
    }

    @Test
    void launcher_withoutAReleaseFile_asksTheJvmForItsVersion() throws Exception {
        launch("version");
        Path java = dir.resolve("bin/java");
        // a JVM that answers like JDK 25 does to -XshowSettings:properties
        Files.writeString(java, "#!/bin/sh\necho \"$*\" >> " + calls + "\ncase \"$*\" in *-XshowSettings*) "
                + "echo '    java.specification.version = 25' >&2;; esac\n");
        assertThat(launch("cds")).isEqualTo("-XshowSettings:properties -version\n" + InstallCommand.JVM_FLAGS
                + " -jar " + launcherJar + " install --cds-only --jar " + launcherJar + " --java " + java
                + " --cds-archive " + stamped("aot") + "\n");
    }
}
