package dev.whatami.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.agent.install.InstallCommand;
import dev.whatami.emulator.MetadataService;
import dev.whatami.server.ScriptServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Run-once semantics across "boots", the lock, status and the config file (install: InstallCommandTest). */
class AgentLifecycleTest {
    @TempDir
    Path dir;
    private Path root;
    private ScriptServer server;
    private StringWriter out;
    private StringWriter err;

    @BeforeEach
    void files() throws Exception {
        root = Files.createDirectories(dir.resolve("www"));
        // each script appends its attempt number to a file outside its task directory
        Files.writeString(root.resolve("count.sh"), "echo \"$WHATAMI_ATTEMPT\" >> \"$COUNT_FILE\"\n");
        Files.writeString(root.resolve("fail.sh"), "echo \"$WHATAMI_ATTEMPT\" >> \"$COUNT_FILE\"\nexit 1\n");
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private void serve(String userDataTemplate) throws Exception {
        int port = dev.whatami.testsupport.Ports.free();
        server = ScriptServer.builder(root).bind("127.0.0.1").port(port).metadataService(MetadataService.builder()
                .instanceId("i-life").userData(userDataTemplate.replace("SRV", "127.0.0.1:" + port)).build())
                .build().start();
    }

    private int agent(Map<String, String> env, String... args) {
        out = new StringWriter();
        err = new StringWriter();
        CommandLine cl = WhatamiAgent.commandLine(env);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    private int boot(String bootId) {
        return agent(Map.of("PATH", System.getenv("PATH"), "COUNT_FILE", dir.resolve("count").toString()),
                "run", "--provider", "ec2", "--metadata-endpoint", server.uri().toString(), "--state-dir", dir.resolve("state").toString(),
                "--log-dir", dir.resolve("log").toString(), "--boot-id", bootId);
    }

    private List<String> runs() throws Exception {
        Path f = dir.resolve("count");
        return Files.exists(f) ? Files.readAllLines(f) : List.of();
    }

    @Test
    void perInstanceTask_runsOnceAcrossReboots() throws Exception {
        serve("count.sh SRV");
        assertThat(boot("b1")).isZero();
        assertThat(boot("b2")).isZero();
        assertThat(boot("b2")).isZero();
        assertThat(runs()).containsExactly("1");
        assertThat(StatusJson.read(dir.resolve("state/status.json")).get("message"))
                .isEqualTo("0 task(s) succeeded, 1 skipped (already done)");
    }

    @Test
    void failingTaskWithRetries2_runsThreeTimesAcrossThreeBoots_thenStops() throws Exception {
        serve("fail.sh SRV retries=2");
        List<Integer> codes = new ArrayList<>();
        for (String b : List.of("b1", "b2", "b3", "b4", "b5")) {
            codes.add(boot(b));
        }
        assertThat(codes).containsOnly(1);
        assertThat(runs()).containsExactly("1", "2", "3");
        assertThat(StatusJson.read(dir.resolve("state/status.json")).get("message").toString())
                .isEqualTo("not run: failed after 3 attempts; no retries left (retries=2). Run whatami-agent "
                + "reset fail.sh to run it again, or change its user-data line.");
    }

    @Test
    void perBootTask_runsOncePerBoot() throws Exception {
        serve("count.sh SRV frequency=per-boot");
        boot("b1");
        boot("b1");
        boot("b2");
        assertThat(runs()).containsExactly("1", "1");
    }

    @Test
    void changedUserData_runsTheNewTask() throws Exception {
        serve("count.sh SRV");
        boot("b1");
        int port = server.address().getPort();
        server.close();
        Files.writeString(root.resolve("count.sh"), "echo changed >> \"$COUNT_FILE\"\n");
        byte[] sha = java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(root.resolve("count.sh")));
        server = ScriptServer.builder(root).bind("127.0.0.1").port(port).metadataService(MetadataService.builder()
                .instanceId("i-life").userData("count.sh 127.0.0.1:" + port + " sha256="
                        + java.util.HexFormat.of().formatHex(sha)).build()).build().start();
        boot("b2");
        assertThat(runs()).containsExactly("1", "changed");
    }

    @Test
    void corruptedLedger_isExplained_andNothingRunsTwice() throws Exception {
        serve("count.sh SRV");
        assertThat(boot("b1")).isZero();
        Files.writeString(dir.resolve("state/instances/i-life/ledger.json"), "{ this is not json");
        assertThat(boot("b2")).isEqualTo(1);
        assertThat(runs()).containsExactly("1");
        assertThat(StatusJson.read(dir.resolve("state/status.json")).get("message").toString())
                .contains("the ledger").contains("is unreadable").contains("move it aside to start over");
    }

    @Test
    void secondAgentWhileOneRuns_exits1_andLeavesStatusAlone() throws Exception {
        serve("count.sh SRV");
        Path state = Files.createDirectories(dir.resolve("state"));
        Files.writeString(state.resolve("status.json"), "{\"state\":\"running\"}");
        try (FileChannel ch = FileChannel.open(state.resolve("agent.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock ignored = ch.lock()) {
            assertThat(boot("b1")).isEqualTo(1);
        }
        assertThat(runs()).isEmpty();
        assertThat(Files.readString(state.resolve("status.json"))).isEqualTo("{\"state\":\"running\"}");
    }

    @Test
    void status_reportsTheLastRun_andMirrorsItsExitCode() throws Exception {
        serve("fail.sh SRV");
        boot("b1");
        assertThat(agent(Map.of(), "status", "--state-dir", dir.resolve("state").toString())).isEqualTo(1);
        assertThat(out.toString()).startsWith("status: failed (exit 1)\ninstance: i-life (ec2)\n")
                .contains("  fail.sh: failed (exit 1), attempt 1");
        assertThat(agent(Map.of(), "status", "--json", "--state-dir", dir.resolve("state").toString())).isEqualTo(1);
        assertThat(out.toString()).contains("\"exitCode\" : 1");
    }

    @Test
    void status_notRunYet() {
        assertThat(agent(Map.of(), "status", "--state-dir", dir.resolve("none").toString())).isZero();
        assertThat(out.toString()).startsWith("status: not run");
    }

    @Test
    void status_ofAKilledAgent_isInterrupted() throws Exception {
        Path state = Files.createDirectories(dir.resolve("state"));
        Process dead = new ProcessBuilder("true").start();
        dead.waitFor();
        Files.writeString(state.resolve("status.json"), "{\"state\":\"running\",\"startedAt\":\"2026-01-01T00:00:00Z\","
                + "\"pid\":" + dead.pid() + "}");
        assertThat(agent(Map.of(), "status", "--wait", "--state-dir", state.toString())).isEqualTo(1);
        assertThat(out.toString()).startsWith("status: interrupted");
    }

    @Test
    void statusWait_waitsUntilTheRunEnds() throws Exception {
        Path state = Files.createDirectories(dir.resolve("state"));
        Path file = state.resolve("status.json");
        Files.writeString(file, "{\"state\":\"running\",\"pid\":" + ProcessHandle.current().pid() + "}");
        List<Integer> polls = new ArrayList<>();
        StatusCommand command = new StatusCommand(Map.of(), finishingAt(3, file, polls)); // the agent finishes while status waits
        out = new StringWriter();
        CommandLine cl = new CommandLine(command);
        cl.setOut(new PrintWriter(out, true));
        assertThat(cl.execute("--wait", "--state-dir", state.toString())).isZero();
        assertThat(polls).hasSize(3);
        assertThat(out.toString()).startsWith("status: done (exit 0)\nmessage: 1 task(s) succeeded");
    }

    /**
     * The agent writes its last status and exits between status's read and its pid check: that is a finished run,
     * not a killed one (CI once saw "interrupted", exit 1, for a run that was done).
     */
    @Test
    void statusWait_whenTheAgentFinishesBetweenTheReadAndThePidCheck_isDone_notInterrupted() throws Exception {
        Path state = Files.createDirectories(dir.resolve("state"));
        Path file = state.resolve("status.json");
        Files.writeString(file, "{\"state\":\"running\",\"revision\":4,\"pid\":4242}");
        StatusCommand command = new StatusCommand(Map.of(), d -> {
            throw new AssertionError("waited");
        });
        List<Long> checked = new ArrayList<>();
        command.alive = pid -> { // the check finds pid 4242 gone: it wrote "done" just before it exited
            checked.add(pid);
            try {
                Files.writeString(file, "{\"state\":\"done\",\"revision\":5,\"exitCode\":0,"
                        + "\"message\":\"1 task(s) succeeded\"}");
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return false;
        };
        out = new StringWriter();
        CommandLine cl = new CommandLine(command);
        cl.setOut(new PrintWriter(out, true));
        assertThat(cl.execute("--wait", "--state-dir", state.toString())).isZero();
        assertThat(checked).containsExactly(4242L);
        assertThat(out.toString()).startsWith("status: done (exit 0)");

        // still "running" on the second read: killed
        Files.writeString(file, "{\"state\":\"running\",\"revision\":4,\"pid\":4242}");
        StatusCommand killed = new StatusCommand(Map.of(), d -> {
            throw new AssertionError("waited");
        });
        killed.alive = pid -> false;
        out = new StringWriter();
        CommandLine k = new CommandLine(killed);
        k.setOut(new PrintWriter(out, true));
        assertThat(k.execute("--wait", "--state-dir", state.toString())).isEqualTo(1);
        assertThat(out.toString()).startsWith("status: interrupted");
    }

    /** A pause that counts its calls in {@code polls} and, at call {@code n}, writes a finished run to {@code file}. */
    private static StatusCommand.Pause finishingAt(int n, Path file, List<Integer> polls) {
        return d -> {
            polls.add(polls.size());
            if (polls.size() == n) {
                try {
                    Files.writeString(file, "{\"state\":\"done\",\"exitCode\":0,\"message\":\"1 task(s) succeeded\"}");
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        };
    }

    /** A power loss mid-boot can leave status.json empty: waiting reads it as not written yet, not as an answer. */
    @Test
    void statusWait_onAnEmptyStatusFile_waitsForTheAgentToWriteIt_andWithoutWaitSaysItIsDamaged() throws Exception {
        Path state = Files.createDirectories(dir.resolve("state"));
        Path file = state.resolve("status.json");
        Files.writeString(file, "");
        List<Integer> polls = new ArrayList<>();
        StatusCommand command = new StatusCommand(Map.of(), finishingAt(2, file, polls));
        out = new StringWriter();
        CommandLine cl = new CommandLine(command);
        cl.setOut(new PrintWriter(out, true));
        assertThat(cl.execute("--wait", "--state-dir", state.toString())).isZero();
        assertThat(polls).hasSize(2);
        assertThat(out.toString()).startsWith("status: done (exit 0)");

        Files.writeString(file, "");
        StringWriter errs = new StringWriter();
        CommandLine once = new CommandLine(new StatusCommand(Map.of(), d -> {
            throw new AssertionError("waited");
        }));
        once.setOut(new PrintWriter(new StringWriter(), true));
        once.setErr(new PrintWriter(errs, true));
        assertThat(once.execute("--state-dir", state.toString())).isEqualTo(5);
        assertThat(errs.toString()).startsWith("whatami-agent status: " + file + " is damaged");

        StringWriter late = new StringWriter();
        CommandLine limited = new CommandLine(new StatusCommand(Map.of(), d -> { }));
        limited.setOut(new PrintWriter(new StringWriter(), true));
        limited.setErr(new PrintWriter(late, true));
        assertThat(limited.execute("--wait", "--timeout", "1s", "--state-dir", state.toString())).isEqualTo(5);
        assertThat(late.toString()).startsWith("whatami-agent status: " + file + " is damaged");
    }

    /** status.json of a finished run of boot "old", at 10:00. */
    private Path finishedRunOfBootOld() throws Exception {
        Path state = Files.createDirectories(dir.resolve("state"));
        Files.writeString(state.resolve("status.json"), "{\"version\":2,\"state\":\"done\",\"exitCode\":0,"
                + "\"bootId\":\"old\",\"startedAt\":\"2026-12-02T09:59:00Z\","
                + "\"finishedAt\":\"2026-12-02T10:00:00Z\",\"tasks\":[]}");
        return state;
    }

    @Test
    void statusWait_afterAReboot_waitsForThisBootsRun() throws Exception {
        Path state = finishedRunOfBootOld();
        List<Integer> polls = new ArrayList<>();
        StatusCommand command = new StatusCommand(Map.of("WHATAMI_BOOT_ID", "new"), d -> polls.add(polls.size()),
                () -> Optional.of(java.time.Instant.parse("2026-12-02T11:00:00Z")));
        StringWriter errs = new StringWriter();
        CommandLine cl = new CommandLine(command);
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(errs, true));
        assertThat(cl.execute("--wait", "--timeout", "1s", "--state-dir", state.toString())).isEqualTo(1);
        assertThat(polls).hasSize(4);
        assertThat(errs.toString()).startsWith("whatami-agent status: this boot's agent has not started after 1s");
    }

    @Test
    void statusWait_inAContainerThatSharesTheHostsBootId_doesNotWaitForever() throws Exception {
        Path state = finishedRunOfBootOld(); // the run's WHATAMI_BOOT_ID is not in docker exec's environment
        StatusCommand command = new StatusCommand(Map.of(), d -> {
            throw new AssertionError("waited");
        }, () -> Optional.of(java.time.Instant.parse("2026-11-30T08:00:00Z"))); // the host booted days before
        out = new StringWriter();
        CommandLine cl = new CommandLine(command);
        cl.setOut(new PrintWriter(out, true));
        assertThat(cl.execute("--wait", "--state-dir", state.toString())).isZero();
        assertThat(out.toString()).startsWith("status: done (exit 0)");
    }

    @Test
    void configFile_setsOptions_andUnknownKeysAreExplained() throws Exception {
        serve("count.sh SRV");
        Path conf = Files.writeString(dir.resolve("agent.properties"), "state-dir=" + dir.resolve("from-config")
                + "\nlog-dir=" + dir.resolve("log") + "\nmetadata-endpoint=" + server.uri() + "\n");
        assertThat(agent(Map.of("PATH", System.getenv("PATH"), "COUNT_FILE", dir.resolve("count").toString()),
                "run", "--provider", "ec2", "--config", conf.toString())).isZero();
        assertThat(dir.resolve("from-config/status.json")).exists();

        Files.writeString(conf, "state_dir=/x\n");
        assertThat(agent(Map.of(), "run", "--config", conf.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("sets unknown keys [state_dir]; known keys are");
    }

    @Test
    void aReportTokenInAConfigFileOthersCanRead_isRefused_namingTheFileNotTheToken() throws Exception {
        Path conf = Files.writeString(dir.resolve("agent.properties"), "report-token=hunter2\ndeadline=45s\n");
        Files.setPosixFilePermissions(conf, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(agent(Map.of(), "run", "--config", conf.toString(), "--state-dir", dir.resolve("s").toString(),
                "--print-config")).isEqualTo(2);
        assertThat(err.toString()).contains("config file " + conf + " holds report-token")
                .contains("chmod 600 " + conf).doesNotContain("hunter2");
        assertThat(out.toString()).doesNotContain("hunter2");

        Files.setPosixFilePermissions(conf, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        assertThat(agent(Map.of(), "run", "--config", conf.toString(), "--state-dir", dir.resolve("s").toString(),
                "--print-config")).isZero();
        assertThat(out.toString()).containsPattern("report-token +\\(set, not shown\\)");

        // a file without a token may be read by anyone
        Files.writeString(conf, "deadline=45s\n");
        Files.setPosixFilePermissions(conf, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(agent(Map.of(), "run", "--config", conf.toString(), "--state-dir", dir.resolve("s").toString(),
                "--print-config")).isZero();
    }

    @Test
    void printConfig_showsEachValueAndWhereItCameFrom_withoutSecrets() throws Exception {
        Path conf = Files.writeString(dir.resolve("agent.properties"), "log-dir=/from/file\ndeadline=45s\n");
        assertThat(agent(Map.of("WHATAMI_DEADLINE", "30s", "WHATAMI_REPORT_TOKEN", "hunter2"), "run", "--config",
                conf.toString(), "--state-dir", dir.resolve("s").toString(), "--print-config")).isZero();
        String text = out.toString();
        assertThat(text).containsPattern("state-dir +\\S+/s +\\(flag --state-dir\\)")
                .containsPattern("log-dir +/from/file +\\(config file " + java.util.regex.Pattern.quote(conf.toString()) + "\\)")
                .containsPattern("deadline +30s +\\(environment WHATAMI_DEADLINE\\)")
                .containsPattern("provider +auto +\\(default\\)")
                .contains("(set, not shown)").doesNotContain("hunter2");
        assertThat(dir.resolve("s")).doesNotExist();
    }

    @Test
    void version() {
        assertThat(agent(Map.of(), "version")).isZero();
        assertThat(out.toString()).startsWith("whatami-agent ");
    }
}
