package dev.whatami.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * <p>{@code --cds-only} is what the launcher's {@code whatami-agent cds} runs: a training run and a static AppCDS
 * archive at the path the launcher names after the jar and the JVM (see the launcher's comment).
 */
@Command(name = "install", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Lay out what the whatami-agent package installs (the jar in /usr/share/whatami, the launcher "
                + "/usr/bin/whatami-agent, /etc/whatami/trusted-keys) into a root, and make the launcher run at every "
                + "boot: the package's systemd units, or the seed's lines in /etc/rc.local. Prefer the package (dpkg -i) "
                + "where you can. Safe to run again: it replaces what it wrote before."})
public final class InstallCommand implements Callable<Integer> {
    static final String BEGIN = "# >>> whatami >>>";
    static final String END = "# <<< whatami <<<";
    /** JVM flags for a short-lived process: no C2, the small serial collector, a small heap. The launcher's own. */
    static final String JVM_FLAGS = "-XX:TieredStopAtLevel=1 -XX:CompileThresholdScaling=3 -XX:+UseSerialGC -Xmx128m "
            + "-Xss512k -XX:-UsePerfData";
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

    @Option(names = "--cds-archive", paramLabel = "FILE", description = "With --cds-only: where to write the archive.")
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
        Path javaInRoot = inRoot(rootDir, javaPath);
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
        String launcher = resource("whatami-agent").replace(JAVA_LINE,
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
            String after = withBlock(before, !noCds);
            layout.file("/etc/rc.local", () -> after.getBytes(StandardCharsets.UTF_8), "rwxr-xr-x", null);
            note = (before.contains(BEGIN) ? "updated " : "added the agent to ") + rc;
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
            out.println("would build the AppCDS archive " + cdsArchive + " for " + jarPath + " and " + javaPath);
            return 0;
        }
        String failed = train(javaPath, jarPath, cdsArchive);
        if (failed != null) {
            spec.commandLine().getErr().println("whatami-agent cds: no AppCDS archive (" + failed + "); the agent "
                    + "starts without one, only slower");
            return dev.whatami.agent.cli.ExitCode.TASK_FAILED.code();
        }
        Files.setPosixFilePermissions(cdsArchive, PosixFilePermissions.fromString("rw-r--r--"));
        out.println("built the AppCDS archive " + cdsArchive);
        return 0;
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
            out.println(output.isEmpty() ? "the AppCDS archive is up to date" : output);
        }
    }

    private String deferred(String why) {
        return "the AppCDS archive is built at first boot by " + (mode.systemd ? CDS_UNIT : "the rc.local block")
                + " (here: " + why + ")";
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    /** One of the files this jar carries for the package and for install (the unit files, the launcher). */
    static String resource(String name) {
        try (InputStream in = InstallCommand.class.getResourceAsStream("install/" + name)) {
            if (in == null) {
                throw new IllegalStateException("this jar lacks dev/whatami/agent/install/" + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * {@code path} (absolute, as the booted system sees it) inside {@code rootDir}, with every symlink followed
     * as the booted system would follow it — absolute targets anchored at the root, never leaving it.
     *
     * @return the host path, or null when a link loops or the path does not exist
     */
    static Path inRoot(Path rootDir, String path) {
        List<String> todo = new ArrayList<>(List.of(path.substring(1).split("/")));
        Path at = rootDir;
        for (int hops = 0; !todo.isEmpty(); ) {
            String part = todo.remove(0);
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                at = at.equals(rootDir) ? rootDir : at.getParent();
                continue;
            }
            Path next = at.resolve(part);
            if (Files.isSymbolicLink(next)) {
                if (++hops > 40) {
                    return null;
                }
                String target;
                try {
                    target = Files.readSymbolicLink(next).toString();
                } catch (IOException e) {
                    return null;
                }
                todo.addAll(0, List.of(target.split("/")));
                if (target.startsWith("/")) {
                    at = rootDir;
                }
            } else if (Files.exists(next, LinkOption.NOFOLLOW_LINKS)) {
                at = next;
            } else {
                return null;
            }
        }
        return at;
    }

    /** What install writes into a root; printed as a plan for --dry-run, then applied. */
    private static final class Layout {
        private interface Content {
            byte[] bytes() throws IOException;
        }

        private record Entry(String path, Content content, String mode, Path sameAs, String link, boolean remove) {
        }

        private final Path rootDir;
        private final List<Entry> entries = new ArrayList<>();

        Layout(Path rootDir) {
            this.rootDir = rootDir;
        }

        void file(String path, Content content, String mode, Path sameAs) {
            entries.add(new Entry(path, content, mode, sameAs, null, false));
        }

        void directory(String path) {
            entries.add(new Entry(path, null, "rwxr-xr-x", null, null, false));
        }

        /** A unit file from this jar to /etc/systemd/system, enabled as `systemctl enable` would. */
        void unit(String name) {
            file("/etc/systemd/system/" + name, () -> resource(name).getBytes(StandardCharsets.UTF_8), "rw-r--r--",
                    null);
            entries.add(new Entry("/etc/systemd/system/multi-user.target.wants/" + name, null, null, null,
                    "/etc/systemd/system/" + name, false));
        }

        void remove(String path) {
            entries.add(new Entry(path, null, null, null, null, true));
        }

        private Path host(String path) {
            return rootDir.resolve(path.substring(1));
        }

        List<String> plan() {
            List<String> lines = new ArrayList<>();
            for (Entry e : entries) {
                Path p = host(e.path);
                if (e.remove) {
                    if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                        lines.add("would remove " + p);
                    }
                } else if (e.link != null) {
                    lines.add("would link " + p + " -> " + e.link);
                } else if (e.content == null) {
                    lines.add("would create " + p + "/");
                } else {
                    lines.add("would write " + p + " (mode " + e.mode + ")");
                }
            }
            return lines;
        }

        void apply() throws IOException {
            for (Entry e : entries) {
                Path p = host(e.path);
                if (e.remove) {
                    Files.deleteIfExists(p);
                } else if (e.link != null) {
                    Files.createDirectories(p.getParent());
                    Files.deleteIfExists(p);
                    Files.createSymbolicLink(p, Path.of(e.link));
                } else if (e.content == null) {
                    Files.createDirectories(p);
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(e.mode));
                } else {
                    if (e.sameAs == null || !Files.exists(p) || !Files.isSameFile(p, e.sameAs)) {
                        // written whole or not at all (owner-only while it is written), then opened up
                        dev.whatami.status.AtomicFiles.write(p, e.content.bytes());
                    }
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(e.mode));
                }
            }
        }
    }

    /**
     * A training run that loads what a boot loads — IMDSv2 over HttpClient, parse, fetch over http, verify a
     * signature, ledger, run a script, status — against throw-away services on 127.0.0.1 in this process (the
     * metadata-emulator module playing EC2, and the JDK's own HTTP server with the signed script), records the
     * classes it loads, and dumps them into a static AppCDS archive.
     *
     * @return null on success, else why not
     */
    static String train(String javaPath, String jarPath, Path archive) throws IOException {
        Path tmp = Files.createTempDirectory("whatami-cds");
        com.sun.net.httpserver.HttpServer files = com.sun.net.httpserver.HttpServer.create(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        dev.whatami.emulator.MetadataEmulator imds = null;
        try {
            String base = "127.0.0.1:" + files.getAddress().getPort();
            // The training script is signed with a key of its own, trusted only by the training run: the boot path
            // with signatures lands in the archive too, and the keys this machine trusts play no part.
            KeyPair key = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            byte[] script = "#!/bin/sh\ntrue\n".getBytes(StandardCharsets.UTF_8);
            Signature signer = Signature.getInstance("Ed25519");
            signer.initSign(key.getPrivate());
            signer.update(script);
            Path keys = Files.createDirectories(tmp.resolve("keys"));
            Files.writeString(keys.resolve("training.pub"), "-----BEGIN PUBLIC KEY-----\n"
                    + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(
                            key.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n");
            Map<String, byte[]> answers = Map.of(
                    "/scriptserver/train.sh", script,
                    "/scriptserver/train.sh.sig", bytes(Base64.getEncoder().encodeToString(signer.sign())));
            files.createContext("/", ex -> {
                byte[] b = answers.getOrDefault(ex.getRequestURI().getPath(), new byte[0]);
                ex.sendResponseHeaders(b.length == 0 ? 404 : 200, b.length == 0 ? -1 : b.length);
                if (b.length > 0) {
                    ex.getResponseBody().write(b);
                }
                ex.close();
            });
            files.start();
            imds = dev.whatami.emulator.MetadataEmulator.builder().instanceId("i-cds-training")
                    .userData("train.sh " + base + " frequency=always\n").imdsV2Required(true).start();
            Files.createDirectories(archive.toAbsolutePath().getParent());
            // Two runs on one state directory: a first boot, and a later one that reads the ledger and the staged
            // files the first left (the JSON parser, the stale-file sweep); the archive holds what either loads.
            Path classList = tmp.resolve("classes.lst");
            Path empty = Files.writeString(tmp.resolve("empty.properties"), "");
            Set<String> classes = new java.util.LinkedHashSet<>();
            for (int run = 1; run <= 2; run++) {
                Path list = tmp.resolve("classes-" + run + ".lst");
                List<String> args = new ArrayList<>(List.of("-XX:DumpLoadedClassList=" + list));
                args.addAll(List.of(BOOT_PROPERTIES.split(" ")));
                args.addAll(List.of("-cp", jarPath, dev.whatami.agent.cli.WhatamiAgent.class.getName(), "run",
                        "--provider", "ec2", "--metadata-endpoint", imds.endpoint().toString(), "--state-dir",
                        tmp.resolve("state").toString(), "--log-dir", tmp.resolve("log").toString(), "--boot-id",
                        "cds-training", "--trusted-keys", keys.toString(), "--config", empty.toString()));
                String failed = java(javaPath, tmp.resolve("training-" + run + ".log"), list, "the training run",
                        args.toArray(String[]::new));
                if (failed != null) {
                    return failed;
                }
                classes.addAll(Files.readAllLines(list, StandardCharsets.UTF_8));
            }
            Files.write(classList, classes, StandardCharsets.UTF_8);
            String failed;
            // A static archive, not a dynamic one (-XX:ArchiveClassesAtExit): JDK 17 leaves classes older than Java 6
            // out of dynamic archives, and picocli's are Java 5 — ~40 ms more per boot. Dumped beside the target and
            // renamed, so a failed dump never leaves a half-written archive behind.
            Path partial = archive.resolveSibling(archive.getFileName() + ".part");
            failed = java(javaPath, tmp.resolve("dump.log"), partial, "dumping the archive", "-Xshare:dump",
                    "-XX:SharedClassListFile=" + classList, "-XX:SharedArchiveFile=" + partial, "-cp", jarPath);
            if (failed != null) {
                Files.deleteIfExists(partial);
                return failed;
            }
            Files.move(partial, archive, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } catch (GeneralSecurityException e) {
            return "this JVM cannot sign the training script with Ed25519: " + e.getMessage();
        } finally {
            files.stop(0);
            if (imds != null) {
                imds.close();
            }
            org.apache.commons.io.file.PathUtils.deleteDirectory(tmp);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Runs {@code java} with the launcher's flags and {@code args}, output to {@code log}, for at most two minutes.
     *
     * @return null when it exited 0 and made {@code product}, else what went wrong ({@code what} names the step)
     */
    private static String java(String javaPath, Path log, Path product, String what, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(javaPath));
        cmd.addAll(List.of(JVM_FLAGS.split(" ")));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            return what + " did not finish in 2 minutes";
        }
        if (p.exitValue() != 0 || !Files.exists(product)) {
            return what + " exited " + p.exitValue() + ": "
                    + Files.readString(log, StandardCharsets.UTF_8).lines().reduce((a, b) -> b).orElse("");
        }
        return null;
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

    /**
     * The rc.local text with our block (replacing an earlier one), before its final {@code exit 0}.
     *
     * <p>The agent runs in a session and process group of its own, so the scripts it starts share that group:
     * if the agent dies by a signal ({@code kill -9}, the OOM killer), the group is killed too — a script is never
     * left running without the agent that records how it ended. A script that ends normally keeps
     * what it started only if that detached itself (setsid, start-stop-daemon, a systemd unit). Output stays
     * where rc.local's goes (the console); the agent writes its own agent.log, and each task's output goes to
     * its capped {@code <task>.out|.err}.
     */
    static String withBlock(String rcLocal, boolean cds) {
        List<String> lines = new ArrayList<>(rcLocal.lines().toList());
        int b = lines.indexOf(BEGIN);
        int e = lines.indexOf(END);
        if (b >= 0 && e > b) {
            lines.subList(b, e + 1).clear();
        }
        List<String> block = List.of(BEGIN,
                "# the agent in a process group of its own; if a signal kills it, the script it was running dies too",
                "setsid sh -c '" + LAUNCHER + " run; [ $? -lt 128 ] || kill -KILL 0" + (cds ? "; " + LAUNCHER
                        + " cds >/dev/null 2>&1" : "") + "' </dev/null &",
                END);
        int exit = -1;
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).strip().equals("exit 0")) {
                exit = i;
                break;
            }
        }
        if (lines.isEmpty() || !lines.get(0).startsWith("#!")) {
            lines.add(0, "#!/bin/sh -e");
            exit = exit < 0 ? -1 : exit + 1;
        }
        lines.addAll(exit < 0 ? lines.size() : exit, block);
        return String.join("\n", lines) + "\n";
    }
}
