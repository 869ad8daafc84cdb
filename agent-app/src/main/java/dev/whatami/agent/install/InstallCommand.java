package dev.whatami.agent.install;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code whatami-agent install}: lays out what the {@code whatami-agent} package installs — the jar in
 * {@code /usr/share/whatami}, the launcher {@code /usr/bin/whatami-agent}, {@code /etc/whatami/trusted-keys} — into a
 * root (this machine, or an image being built), and wires the launcher into boot: the package's own systemd units
 * (the same files, one source: {@code dev/whatami/agent/install/} in this jar) or the seed's rc.local lines.
 *
 * <p>{@code --cds-only} is what the launcher's {@code whatami-agent cds} runs: a training run and an AOT cache (JDK 25
 * and later) or a static AppCDS archive at the path the launcher names after the jar and the JVM (see the launcher's
 * comment).
 */
@Command(name = "install", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Lay out what the whatami-agent package installs (the jar in /usr/share/whatami, the launcher "
                + "/usr/bin/whatami-agent, /etc/whatami/trusted-keys) into a root, and make the launcher run at every "
                + "boot: the package's systemd units, or the seed's lines in /etc/rc.local. Prefer the package (dpkg -i) "
                + "where you can. Safe to run again: it replaces what it wrote before."})
public final class InstallCommand implements Callable<Integer> {
    /** JVM flags for a short-lived process: no C2, the small serial collector, a small heap. The launcher's own. */
    static final String JVM_FLAGS = "-XX:TieredStopAtLevel=1 -XX:CompileThresholdScaling=3 -XX:+UseSerialGC -Xmx128m "
            + "-Xss512k -XX:-UsePerfData -XX:CompileCommand=quiet "
            + "-XX:CompileCommand=option,dev/whatami/fetch/internal/Ed25519.*,double,CompileThresholdScaling,0.1";
    /** The system properties the launcher starts the agent with (its {@code props=} line), training runs too. */
    static final String BOOT_PROPERTIES = "-Dslf4j.provider=dev.whatami.agent.cli.AgentLog "
            + "-Dslf4j.internal.verbosity=WARN";
    /** Where the package and install put the launcher, the jar and the archives. */
    static final String LAUNCHER = "/usr/bin/whatami-agent";
    static final String JAR = "/usr/share/whatami/whatami-agent.jar";
    static final String CACHE = "/var/cache/whatami";
    static final String TRUSTED_KEYS = "/etc/whatami/trusted-keys";
    static final String UNIT = "whatami.service";
    static final String CDS_UNIT = "whatami-cds.service";
    /** The launcher's line that names the JVM; install --java rewrites its default. */
    private static final String JAVA_LINE = "java=${WHATAMI_JAVA:-/usr/bin/java}";

    static final class Mode {
        @Option(names = "--systemd", required = true,
                description = "Write whatami.service and whatami-cds.service to /etc/systemd/system and enable them.")
        boolean systemd;

        @Option(names = "--rc-local", required = true, description = "Add the launcher to /etc/rc.local.")
        boolean rcLocal;

        @Option(names = "--cds-only", required = true, description = "Only build the AppCDS archive --cds-archive "
                + "for --jar and --java (what `whatami-agent cds` runs; it names the archive).")
        boolean cdsOnly;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Mode mode;

    @Option(names = "--root", paramLabel = "DIR", defaultValue = "/",
            description = "Install into this root (an image being built). Default: /")
    Path root;

    @Option(names = "--jar", paramLabel = "PATH", description = "The agent jar to install (copied to " + JAR
            + " in the root). Default: this jar. With --cds-only: the jar to build the archive for")
    Path jar;

    @Option(names = "--java", paramLabel = "PATH", description = "The java launcher as the booted system sees it; it "
            + "must exist in the root. Default: /usr/bin/java")
    String java;

    @Option(names = "--cds-archive", paramLabel = "FILE", description = "With --cds-only: where to write the archive: "
            + "an AOT cache if FILE ends in .aot (JDK 25 and later), else an AppCDS archive.")
    Path cdsArchive;

    @Option(names = "--no-cds", description = "Build no AppCDS archive, now or at boot (the agent then starts about "
            + "half as fast).")
    boolean noCds;

    @Option(names = "--dry-run", description = "Print what would be written; change nothing.")
    boolean dryRun;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        String javaPath = java != null ? java : "/usr/bin/java";
        if (mode.cdsOnly) {
            return cdsOnly(out, javaPath);
        }
        if (cdsArchive != null) {
            throw usage("--cds-archive goes with --cds-only; the launcher names the archive of an installed agent "
                    + "itself (" + CACHE + ")");
        }
        Path rootDir = root.toAbsolutePath().normalize();
        if (!javaPath.startsWith("/")) {
            throw usage("--java " + javaPath + " is not an absolute path; give it as the booted system sees it, "
                    + "e.g. /usr/bin/java");
        }
        Path javaInRoot = Layout.inRoot(rootDir, javaPath);
        if (javaInRoot == null || !Files.isRegularFile(javaInRoot) || !Files.isExecutable(javaInRoot)) {
            throw usage("--java " + javaPath + " does not exist in " + rootDir + (rootDir.getParent() == null ? ""
                    : " (looked at " + rootDir.resolve(javaPath.substring(1)) + ")") + "; install a JRE 17+ there "
                    + "(apt-get install openjdk-17-jre-headless) or give --java as the booted system sees it");
        }
        Path sourceJar = jar != null ? jar : ownJar();
        if (sourceJar == null || !Files.isRegularFile(sourceJar)) {
            throw usage(sourceJar == null ? "this agent does not run from a jar; give --jar whatami-agent.jar"
                    : "--jar " + sourceJar + " is not a file; give the agent jar to install");
        }
        Layout layout = new Layout(rootDir);
        layout.file(JAR, () -> Files.readAllBytes(sourceJar), "rw-r--r--", sourceJar);
        String launcher = Layout.resource("whatami-agent").replace(JAVA_LINE,
                JAVA_LINE.replace("/usr/bin/java", javaPath));
        layout.file(LAUNCHER, () -> launcher.getBytes(StandardCharsets.UTF_8), "rwxr-xr-x", null);
        layout.directory(TRUSTED_KEYS);
        layout.directory(CACHE);
        String note;
        if (mode.systemd) {
            layout.unit(UNIT);
            if (!noCds) {
                layout.unit(CDS_UNIT);
            } else {
                layout.remove("/etc/systemd/system/multi-user.target.wants/" + CDS_UNIT);
                layout.remove("/etc/systemd/system/" + CDS_UNIT);
            }
            note = "it runs at the next boot. On a running system: systemctl daemon-reload && systemctl start whatami";
        } else {
            Path rc = rootDir.resolve("etc/rc.local");
            String before = Files.exists(rc) ? Files.readString(rc, StandardCharsets.UTF_8)
                    : "#!/bin/sh -e\n\nexit 0\n";
            String after = RcLocal.withBlock(before, !noCds);
            layout.file("/etc/rc.local", () -> after.getBytes(StandardCharsets.UTF_8), "rwxr-xr-x", null);
            note = (before.contains(RcLocal.BEGIN) ? "updated " : "added the agent to ") + rc;
        }
        if (dryRun) {
            layout.plan().forEach(out::println);
            return 0;
        }
        List<String> plan = layout.plan();
        layout.apply();
        plan.forEach(line -> out.println(line.replaceFirst("^would ", "")));
        out.println(note);
        if (!noCds) {
            archive(out, rootDir);
        }
        return 0;
    }

    private int cdsOnly(PrintWriter out, String javaPath) throws IOException {
        if (cdsArchive == null) {
            throw usage("--cds-only needs --cds-archive FILE (whatami-agent cds names it)");
        }
        String jarPath = jar != null ? jar.toString() : JAR;
        if (dryRun) {
            out.println("would build the " + kind(cdsArchive) + " " + cdsArchive + " for " + jarPath + " and "
                    + javaPath);
            return 0;
        }
        String failed = CdsTraining.train(javaPath, jarPath, cdsArchive);
        if (failed != null) {
            spec.commandLine().getErr().println("whatami-agent cds: no " + kind(cdsArchive) + " (" + failed
                    + "); the agent starts without one, only slower");
            return dev.whatami.agent.cli.ExitCode.TASK_FAILED.code();
        }
        Files.setPosixFilePermissions(cdsArchive, PosixFilePermissions.fromString("rw-r--r--"));
        out.println("built the " + kind(cdsArchive) + " " + cdsArchive);
        return 0;
    }

    private static String kind(Path archive) {
        return CdsTraining.isAotCache(archive) ? "AOT cache" : "AppCDS archive";
    }

    /**
     * Builds the archive the launcher in the root will look for: directly on this machine, in a chroot for another
     * root; when that cannot work here (not root, another architecture), the first boot builds it.
     */
    private void archive(PrintWriter out, Path rootDir) throws IOException, InterruptedException {
        List<String> cmd = rootDir.getParent() == null ? List.of("sh", LAUNCHER, "cds")
                : List.of("chroot", rootDir.toString(), LAUNCHER, "cds");
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(
                    new java.io.File("/dev/null"))).start();
        } catch (IOException e) {
            out.println(deferred(e.getMessage()));
            return;
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(3, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            out.println(deferred(String.join(" ", cmd) + " did not finish in 3 minutes"));
        } else if (p.exitValue() != 0) {
            out.println(deferred(String.join(" ", cmd) + " exited " + p.exitValue() + ": "
                    + output.lines().reduce((a, b) -> b).orElse("")));
        } else {
            out.println(output.isEmpty() ? "the class cache is up to date" : output);
        }
    }

    private String deferred(String why) {
        return "the class cache is built at first boot by " + (mode.systemd ? CDS_UNIT : "the rc.local block")
                + " (here: " + why + ")";
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    /** This process's own jar, or null when it runs from classes (tests, an IDE). */
    private static Path ownJar() {
        try {
            Path p = Path.of(InstallCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return p.toString().endsWith(".jar") ? p : null;
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            return null;
        }
    }
}
