package dev.whatami.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.emulator.MetadataService;
import dev.whatami.server.ScriptServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The whole run command, in-process, against the server's own file server and metadata emulator. */
class AgentRunTest {
    @TempDir
    Path dir;
    private Path root;
    private ScriptServer server;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void files() throws Exception {
        root = Files.createDirectories(dir.resolve("www"));
        Files.writeString(root.resolve("collector.sh"), "#!/bin/sh\necho \"collector on $WHATAMI_INSTANCE_ID "
                + "from $WHATAMI_SERVER role=$ROLE args=$*\"\n");
        Files.writeString(root.resolve("fail.sh"), "echo failing >&2\nexit 7\n");
        Files.writeString(root.resolve("marker.sh"), "touch \"$WHATAMI_TASK.ran\"\n");
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private String serve(String userData) throws Exception {
        MetadataService.Builder emulator = MetadataService.builder().instanceId("i-test1");
        if (userData != null) {
            emulator.userData(userData);
        }
        server = ScriptServer.builder(root).bind("127.0.0.1").port(0).metadataService(emulator.build()).build()
                .start();
        return "127.0.0.1:" + server.address().getPort();
    }

    private int run(String... extra) {
        CommandLine cl = WhatamiAgent.commandLine(Map.of("PATH", System.getenv("PATH")));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        List<String> args = new java.util.ArrayList<>(List.of("run", "--provider", "ec2", "--state-dir", dir.resolve("state").toString(),
                "--log-dir", dir.resolve("log").toString()));
        if (server != null) {
            args.addAll(List.of("--metadata-endpoint", server.uri().toString()));
        }
        args.addAll(List.of(extra));
        return cl.execute(args.toArray(String[]::new));
    }

    private Map<String, Object> status() throws Exception {
        return StatusJson.read(dir.resolve("state/status.json"));
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> tasks() throws Exception {
        return (List<Map<String, Object>>) status().get("tasks");
    }

    @Test
    void seedLine_fetchesRunsAndRecords() throws Exception {
        serveOwnPort("collector.sh SRV fast env.ROLE=collector");
        int port = server.address().getPort();

        assertThat(run()).isZero();

        assertThat(out.toString()).contains("[collector.sh] collector on i-test1 from 127.0.0.1:" + port
                + " role=collector args=fast");
        assertThat(Files.readString(dir.resolve("log/collector.sh.out")))
                .contains("collector on i-test1 from 127.0.0.1:" + port + " role=collector args=fast");
        Map<String, Object> s = status();
        assertThat(s).containsEntry("state", "done").containsEntry("exitCode", 0).containsEntry("instanceId", "i-test1")
                .containsEntry("provider", "ec2");
        Map<String, Object> task = tasks().get(0);
        byte[] script = Files.readAllBytes(root.resolve("collector.sh"));
        assertThat(task).containsEntry("name", "collector.sh").containsEntry("state", "succeeded")
                .containsEntry("trust", "none").containsEntry("exitCode", 0)
                .containsEntry("sha256", HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(script)))
                .containsEntry("source", "http://127.0.0.1:" + port + "/scriptserver/collector.sh");
        assertThat(dir.resolve("state/instances/i-test1/tasks/collector.sh/result.json")).exists();
    }

    private void serveOwnPort(String userDataTemplate) throws Exception {
        int port = dev.whatami.testsupport.Ports.free();
        server = ScriptServer.builder(root).bind("127.0.0.1").port(port).metadataService(MetadataService.builder()
                .instanceId("i-test1").userData(userDataTemplate.replace("SRV", "127.0.0.1:" + port)).build())
                .build().start();
    }

    @Test
    void logDir_isCreated0750() throws Exception {
        serve(null);
        assertThat(run()).isZero();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("log"))))
                .isEqualTo("rwxr-x---");
    }

    @Test
    void noUserData_exits0AndSaysSo() throws Exception {
        serve(null);
        assertThat(run()).isZero();
        assertThat(status()).containsEntry("state", "done").containsEntry("message", "no user-data: nothing to do");
    }

    @Test
    void invalidUserData_exits2_recordsWhereAndWhy_andRunsNothing() throws Exception {
        serveOwnPort("marker.sh SRV\ncollector.sh 999.1.1.1\n");
        assertThat(run()).isEqualTo(2);
        assertThat(status()).containsEntry("state", "invalid").containsEntry("exitCode", 2);
        assertThat(status().get("problems").toString()).contains("line=2").contains("column=14")
                .contains("is not an IPv4 address");
        assertThat(tasks()).isEmpty();
        assertThat(dir.resolve("state/instances")).doesNotExist();
    }

    @Test
    void missingScript_exits4_namingTheUrl_andLaterTasksDoNotRun() throws Exception {
        serveOwnPort("missing.pl SRV\nmarker.sh SRV\n");
        assertThat(run()).isEqualTo(4);
        assertThat(status().get("message").toString()).startsWith("could not fetch missing.pl: tried http://127.0.0.1:"
                + server.address().getPort() + "/scriptserver/missing.pl (HTTP 404 Not Found)")
                .endsWith("1 later task(s) not run");
        assertThat(tasks()).hasSize(2);
        assertThat(tasks().get(0)).containsEntry("state", "not-fetched").containsEntry("source", "http://127.0.0.1:"
                + server.address().getPort() + "/scriptserver/missing.pl");
        assertThat(tasks().get(1)).containsEntry("name", "marker.sh").containsEntry("state", "not-run");
        assertThat(status()).containsEntry("state", "not-fetched");
    }

    @Test
    void wrongPin_isRefusedWithExit4_andNeverRuns() throws Exception {
        serveOwnPort("marker.sh SRV sha256=" + "0".repeat(64));
        assertThat(run()).isEqualTo(4);
        assertThat(tasks().get(0)).containsEntry("state", "refused");
        assertThat(status().get("message").toString()).contains("but the user-data pins " + "0".repeat(64));
        assertThat(dir.resolve("state/instances/i-test1/tasks/marker.sh/marker.sh")).doesNotExist();
        assertThat(dir.resolve("state/instances/i-test1/tasks/marker.sh/marker.sh.ran")).doesNotExist();
    }

    @Test
    void rightPin_runsWithTrustPin() throws Exception {
        byte[] script = Files.readAllBytes(root.resolve("marker.sh"));
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(script));
        serveOwnPort("marker.sh SRV sha256=" + sha);
        assertThat(run()).isZero();
        assertThat(tasks().get(0)).containsEntry("trust", "pin");
        assertThat(dir.resolve("state/instances/i-test1/tasks/marker.sh/marker.sh.ran")).exists();
    }

    @Test
    void failingTask_exits1_andStopsThere() throws Exception {
        serveOwnPort("fail.sh SRV\nmarker.sh SRV\n");
        assertThat(run()).isEqualTo(1);
        assertThat(tasks()).hasSize(2);
        assertThat(tasks().get(0)).containsEntry("state", "failed").containsEntry("exitCode", 7);
        assertThat(tasks().get(1)).containsEntry("name", "marker.sh").containsEntry("state", "not-run")
                .containsEntry("message", "not run: fail.sh did not succeed");
        assertThat(status().get("message").toString()).startsWith("task fail.sh exited 7; see ");
        assertThat(Files.readString(dir.resolve("log/fail.sh.err"))).contains("failing");
    }

    @Test
    void scriptForm_runsTheUserDataItself() throws Exception {
        serveOwnPort("#!/bin/sh\necho inline on $WHATAMI_INSTANCE_ID\n");
        assertThat(run()).isZero();
        assertThat(tasks().get(0)).containsEntry("trust", "user-data").containsEntry("name", "user-data-script");
        assertThat(Files.readString(dir.resolve("log/user-data-script.out"))).contains("inline on i-test1");
    }

    @Test
    void metadataUnreachable_exits3_withinTheDeadline() throws Exception {
        int port = dev.whatami.testsupport.Ports.free();
        assertThat(run("--metadata-endpoint", "http://127.0.0.1:" + port, "--deadline", "300ms")).isEqualTo(3);
        assertThat(status()).containsEntry("exitCode", 3);
        assertThat(status().get("message").toString()).startsWith("no answer from http://127.0.0.1:" + port);
    }

    @Test
    void userDataFile_skipsMetadata() throws Exception {
        serveOwnPort("unused");
        Path ud = Files.writeString(dir.resolve("user-data"), "marker.sh 127.0.0.1:" + server.address().getPort());
        assertThat(run("--user-data-file", ud.toString())).isZero();
        assertThat(status()).containsEntry("provider", "nocloud").containsEntry("instanceId", "iid-local");
    }

    @Test
    void dryRun_printsThePlanAndRunsNothing() throws Exception {
        serveOwnPort("marker.sh SRV");
        assertThat(run("--dry-run")).isZero();
        assertThat(out.toString()).contains("1 task, run in order:").contains("1. marker.sh");
        assertThat(dir.resolve("state/instances")).doesNotExist();
    }

    @Test
    void badFlag_isExplainedNotAStackTrace() {
        assertThat(run("--deadline", "soon")).isEqualTo(2);
        assertThat(err.toString()).contains("--deadline soon is not a duration; write e.g. 90s, 2m or 500ms")
                .doesNotContain("Exception");
    }
}
