package dev.whatami.agent;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code whatami-agent install}: wire the agent into boot, the systemd way or the seed's rc.local way. */
@Command(name = "install", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Make the agent run at every boot: a systemd oneshot unit ordered after network-online.target, "
                + "or the seed's lines in /etc/rc.local. Safe to run again: it replaces what it wrote before."})
final class InstallCommand implements Callable<Integer> {
    static final String BEGIN = "# >>> whatami >>>";
    static final String END = "# <<< whatami <<<";
    /** JVM flags for a short-lived process: no C2, the small serial collector, a small heap. */
    static final String JVM_FLAGS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m -Xss512k";

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

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        String command = launcher() + " run";
        if (mode.systemd) {
            Path unit = root.resolve("etc/systemd/system/whatami.service");
            Path wants = root.resolve("etc/systemd/system/multi-user.target.wants/whatami.service");
            String text = unit(command);
            if (dryRun) {
                out.println("would write " + unit + ":\n" + text);
                out.println("would link " + wants + " -> /etc/systemd/system/whatami.service");
                return 0;
            }
            dev.whatami.run.AtomicFiles.write(unit, text.getBytes(StandardCharsets.UTF_8));
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
        dev.whatami.run.AtomicFiles.write(rc, after.getBytes(StandardCharsets.UTF_8));
        try {
            Files.setPosixFilePermissions(rc, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (UnsupportedOperationException e) {
            rc.toFile().setExecutable(true, false);
        }
        out.println((before.contains(BEGIN) ? "updated " : "added the agent to ") + rc);
        return 0;
    }

    private String launcher() {
        String j = java != null ? java : Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String a = jar != null ? jar : ownJar();
        return j + " " + JVM_FLAGS + " -jar " + a;
    }

    private static String ownJar() {
        try {
            Path p = Path.of(WhatamiAgent.class.getProtectionDomain().getCodeSource().getLocation().toURI());
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
