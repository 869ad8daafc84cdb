package dev.whatami.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.whatami.testsupport.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed's promise with the shipped jars on loopback: a blank "instance" asks the (emulated) metadata
 * service what it is, fetches collector.sh from the file server, and becomes a collector.
 */
class SeedFlowIT {
    @TempDir
    Path dir;
    Path root;

    @BeforeEach
    void scripts() throws Exception {
        root = Files.createDirectories(dir.resolve("www/scriptserver"));
        Files.writeString(root.resolve("collector.sh"), """
                #!/bin/sh
                echo "COLLECTOR-READY instance=$WHATAMI_INSTANCE_ID server=$WHATAMI_SERVER args=$*"
                """);
        Files.writeString(root.resolve("processor.pl"), """
                print "PROCESSOR-READY $ENV{WHATAMI_TASK}\\n";
                """);
    }

    private Jars.Result agent(int port) throws Exception {
        return Jars.run(Jars.AGENT, "run", "--provider", "ec2", "--metadata-endpoint", "http://127.0.0.1:" + port,
                "--state-dir", dir.resolve("state").toString(), "--log-dir", dir.resolve("log").toString(),
                "--deadline", "60s");
    }

    /** As rc.local starts it: stdout and stderr appended to agent.log, which the agent also writes itself. */
    @Test
    void stderrRedirectedToAgentLog_eachLineIsLoggedOnce() throws Exception {
        int port = Ports.free();
        try (Jars.Server server = new Jars.Server("--root", root.toString(), "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--metadata-user-data-text", "collector.sh 127.0.0.1:" + port)) {
            Path log = Files.createDirectories(dir.resolve("log")).resolve("agent.log");
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                    Jars.AGENT.toString(), "run", "--provider", "ec2", "--metadata-endpoint", "http://127.0.0.1:" + port,
                    "--state-dir", dir.resolve("state").toString(), "--log-dir", log.getParent().toString())
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            assertThat(p.waitFor(2, java.util.concurrent.TimeUnit.MINUTES)).isTrue();
            assertThat(p.exitValue()).as(Jars.read(log)).isZero();
            List<String> lines = Files.readAllLines(log);
            assertThat(lines).filteredOn(l -> l.contains("task(s) succeeded")).singleElement()
                    .asString().matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z \\[INFO\\] 1 task\\(s\\) succeeded.*");
            assertThat(lines).filteredOn(l -> l.contains("[INFO]")).allMatch(l -> l.matches("\\S+Z \\[INFO\\] .*"))
                    .doesNotHaveDuplicates();
            assertThat(lines).contains("[collector.sh] COLLECTOR-READY instance=i-0123456789abcdef0 server=127.0.0.1:"
                    + port + " args=");
        }
    }

    @SuppressWarnings("unchecked")
    @Test
    void collectorLine_becomesACollector() throws Exception {
        int port = Ports.free();
        try (Jars.Server server = new Jars.Server("--root", root.toString(), "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--instance-id", "i-seed", "--metadata-user-data-text",
                "collector.sh 127.0.0.1:" + port + " extra words")) {
            assertThat(server.startupLine).contains("metadata emulator on");
            Jars.Result r = agent(port);

            assertThat(r.exitCode()).as(r.stderr()).isZero();
            String expected = "COLLECTOR-READY instance=i-seed server=127.0.0.1:" + port + " args=extra words";
            assertThat(r.stdout()).contains("[collector.sh] " + expected);
            assertThat(Jars.read(dir.resolve("log/collector.sh.out"))).contains(expected);
            Map<String, Object> status = JSON.std.mapFrom(Files.readAllBytes(dir.resolve("state/status.json")));
            assertThat(status).containsEntry("state", "done").containsEntry("exitCode", 0)
                    .containsEntry("instanceId", "i-seed");
            List<Map<String, Object>> tasks = (List<Map<String, Object>>) status.get("tasks");
            assertThat(tasks).singleElement().satisfies(t -> assertThat(t).containsEntry("state", "succeeded")
                    .containsEntry("source", "http://127.0.0.1:" + port + "/scriptserver/collector.sh"));
        }
    }

    @Test
    void processorLine_inTypographicQuotes_becomesAProcessor() throws Exception {
        int port = Ports.free();
        try (Jars.Server ignored = new Jars.Server("--root", root.toString(), "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--metadata-user-data-text", "\u201Cprocessor.pl 127.0.0.1:" + port + " \u201D")) {
            Jars.Result r = agent(port);
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            assertThat(r.stdout()).contains("[processor.pl] PROCESSOR-READY processor.pl");
            assertThat(r.stderr()).contains("removed the quotes");
        }
    }

    @Test
    void missingScript_exits4_namingTheUrl() throws Exception {
        int port = Ports.free();
        try (Jars.Server ignored = new Jars.Server("--root", root.toString(), "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--metadata-user-data-text", "absent.pl 127.0.0.1:" + port)) {
            Jars.Result r = agent(port);
            assertThat(r.exitCode()).isEqualTo(4);
            String url = "http://127.0.0.1:" + port + "/scriptserver/absent.pl";
            assertThat(r.stderr()).contains("could not fetch absent.pl: tried " + url + " (HTTP 404 Not Found)");
            assertThat(Jars.read(dir.resolve("state/status.json"))).contains("\"exitCode\" : 4").contains(url);
        }
    }

    @Test
    void check_refusesTheBadSeedLine() throws Exception {
        Jars.Result r = Jars.run(Jars.AGENT, "check", "collector.pl 999.1.1.1");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains("line 1, column 14: \"999.1.1.1\" is not an IPv4 address");
    }

    @Test
    void server_refusesAMissingRoot() throws Exception {
        Jars.Result r = Jars.run(Jars.SERVER, "--root", dir.resolve("nope").toString(), "--port", "0");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains("is not a directory; create it");
    }
}
