package dev.whatami.agent;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URISyntaxException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code whatami-agent install}: wire the agent into boot, the systemd way or the seed's rc.local way. */
@Command(name = "install", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Make the agent run at every boot: a systemd oneshot unit ordered after network-online.target, "
                + "or the seed's lines in /etc/rc.local. Safe to run again: it replaces what it wrote before."})
public final class InstallCommand implements Callable<Integer> {
    public static final String BEGIN = "# >>> whatami >>>";
    public static final String END = "# <<< whatami <<<";
    /** JVM flags for a short-lived process: no C2, the small serial collector, a small heap. */
    public static final String JVM_FLAGS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m -Xss512k";

    static final class Mode {
        @Option(names = "--systemd", required = true, description = "Write and enable whatami.service.")
        boolean systemd;

        @Option(names = "--rc-local", required = true, description = "Add the agent to /etc/rc.local.")
        boolean rcLocal;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Mode mode;

    @Option(names = "--root", paramLabel = "DIR", defaultValue = "/",
            description = "Install into this root (an image being built). Default: /")
    Path root;

    @Option(names = "--jar", paramLabel = "PATH", description = "The agent jar as the booted system sees it. "
            + "Default: this jar's own path")
    String jar;

    @Option(names = "--java", paramLabel = "PATH", description = "The java launcher as the booted system sees it. "
            + "Default: this JVM's")
    String java;

    @Option(names = "--dry-run", description = "Print what would be written; change nothing.")
    boolean dryRun;

    @Option(names = "--cds-archive", paramLabel = "FILE", description = "Build an AppCDS archive here with a training "
            + "run and start the agent with it (boots ~40% faster). Default: <jar>.jsa when installing into / , "
            + "none otherwise (an archive only fits the JVM and jar it was made with)")
    Path cdsArchive;

    @Option(names = "--no-cds", description = "Do not build an AppCDS archive.")
    boolean noCds;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        String javaPath = java != null ? java : Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String jarPath = jar != null ? jar : ownJar();
        Path archive = noCds ? null : cdsArchive != null ? cdsArchive
                : root.equals(Path.of("/")) && jarPath.endsWith(".jar") ? Path.of(jarPath + ".jsa") : null;
        if (archive != null && !dryRun) {
            String trained = train(javaPath, jarPath, archive);
            if (trained != null) {
                spec.commandLine().getErr().println("whatami-agent install: no AppCDS archive (" + trained + "); the "
                        + "agent still runs, only slower to start");
                archive = null;
            } else {
                out.println("built the AppCDS archive " + archive);
            }
        }
        String command = javaPath + " " + JVM_FLAGS + (archive == null ? "" : " -XX:SharedArchiveFile=" + archive
                + " -Xshare:auto") + " -jar " + jarPath + " run";
        if (mode.systemd) {
            Path unit = root.resolve("etc/systemd/system/whatami.service");
            Path wants = root.resolve("etc/systemd/system/multi-user.target.wants/whatami.service");
            String text = unit(command);
            if (dryRun) {
                out.println("would write " + unit + ":\n" + text);
                out.println("would link " + wants + " -> /etc/systemd/system/whatami.service");
                return 0;
            }
            dev.whatami.status.AtomicFiles.write(unit, text.getBytes(StandardCharsets.UTF_8));
            Files.createDirectories(wants.getParent());
            Files.deleteIfExists(wants);
            Files.createSymbolicLink(wants, Path.of("/etc/systemd/system/whatami.service"));
            out.println("wrote " + unit + " and enabled it (" + wants + "); it runs at the next boot. On a running "
                    + "system: systemctl daemon-reload && systemctl start whatami");
            return 0;
        }
        Path rc = root.resolve("etc/rc.local");
        String before = Files.exists(rc) ? Files.readString(rc, StandardCharsets.UTF_8) : "#!/bin/sh -e\n\nexit 0\n";
        String after = withBlock(before, command);
        if (dryRun) {
            out.println("would write " + rc + ":\n" + after);
            return 0;
        }
        dev.whatami.status.AtomicFiles.write(rc, after.getBytes(StandardCharsets.UTF_8));
        try {
            Files.setPosixFilePermissions(rc, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (UnsupportedOperationException e) {
            rc.toFile().setExecutable(true, false);
        }
        out.println((before.contains(BEGIN) ? "updated " : "added the agent to ") + rc);
        return 0;
    }

    /**
     * A training run that loads what a boot loads — IMDSv2 over HttpClient, parse, fetch over http, ledger, run a
     * script, status — against a throw-away EC2 look-alike on 127.0.0.1 (the JDK's own HTTP server, in this
     * process), records the classes it loads, and dumps them into a static AppCDS archive.
     *
     * @return null on success, else why not
     */
    static String train(String javaPath, String jarPath, Path archive) throws IOException {
        Path tmp = Files.createTempDirectory("whatami-cds");
        com.sun.net.httpserver.HttpServer imds = com.sun.net.httpserver.HttpServer.create(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        try {
            String base = "127.0.0.1:" + imds.getAddress().getPort();
            Map<String, String> answers = Map.of(
                    "/latest/api/token", "training-token",
                    "/latest/meta-data/instance-id", "i-cds-training",
                    "/latest/user-data", "train.sh " + base + " frequency=always\n",
                    "/scriptserver/train.sh", "#!/bin/sh\ntrue\n");
            imds.createContext("/", ex -> {
                String body = answers.get(ex.getRequestURI().getPath());
                byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(body == null ? 404 : 200, b.length == 0 ? -1 : b.length);
                if (b.length > 0) {
                    ex.getResponseBody().write(b);
                }
                ex.close();
            });
            imds.start();
            Files.createDirectories(archive.toAbsolutePath().getParent());
            Path classList = tmp.resolve("classes.lst");
            String failed = java(javaPath, tmp.resolve("training.log"), classList, "the training run",
                    "-XX:DumpLoadedClassList=" + classList, "-jar", jarPath, "run", "--provider", "ec2",
                    "--metadata-endpoint", "http://" + base, "--state-dir", tmp.resolve("state").toString(),
                    "--log-dir", tmp.resolve("log").toString(), "--boot-id", "cds-training", "--config",
                    Files.writeString(tmp.resolve("empty.properties"), "").toString());
            if (failed != null) {
                return failed;
            }
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
        } finally {
            imds.stop(0);
            org.apache.commons.io.file.PathUtils.deleteDirectory(tmp);
        }
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
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
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

    private static String ownJar() {
        try {
            Path p = Path.of(dev.whatami.agent.cli.WhatamiAgent.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return p.toString().endsWith(".jar") ? p.toString() : "/opt/whatami/whatami-agent.jar";
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            return "/opt/whatami/whatami-agent.jar";
        }
    }

    static String unit(String command) {
        return """
                [Unit]
                Description=whatami: become what the instance's user-data says
                Documentation=https://github.com/whatami
                Wants=network-online.target
                After=network-online.target
                ConditionPathExists=!/etc/whatami/disabled

                [Service]
                Type=oneshot
                ExecStart=%s
                RemainAfterExit=yes
                TimeoutStartSec=0
                StandardOutput=journal+console
                StandardError=journal+console

                [Install]
                WantedBy=multi-user.target
                """.formatted(command);
    }

    /** The rc.local text with our block (replacing an earlier one), before its final {@code exit 0}. */
    static String withBlock(String rcLocal, String command) {
        List<String> lines = new ArrayList<>(rcLocal.lines().toList());
        int b = lines.indexOf(BEGIN);
        int e = lines.indexOf(END);
        if (b >= 0 && e > b) {
            lines.subList(b, e + 1).clear();
        }
        List<String> block = List.of(BEGIN,
                "mkdir -p /var/log/whatami",
                command + " >>/var/log/whatami/agent.log 2>&1 &",
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
