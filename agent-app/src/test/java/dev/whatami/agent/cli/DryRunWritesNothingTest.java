package dev.whatami.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.server.reports.ReportStore;
import dev.whatami.server.ScriptServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** "--dry-run leaves status.json, the ledger and the server's row byte-identical". */
class DryRunWritesNothingTest {
    @TempDir
    Path dir;

    @Test
    void dryRun_leavesStatusLedgerAndTheServersRowByteIdentical() throws Exception {
        Path root = Files.createDirectories(dir.resolve("www"));
        Files.writeString(root.resolve("broken.sh"), "#!/bin/sh\nexit 3\n");
        try (ScriptServer server = ScriptServer.builder(root).bind("127.0.0.1").port(0)
                .reports(ReportStore.inMemory()).metadataService(dev.whatami.emulator.MetadataService.builder()
                        .instanceId("i-dry").build()).build().start()) {
            String srv = "127.0.0.1:" + server.address().getPort();
            Path userData = Files.writeString(dir.resolve("user-data"), "broken.sh " + srv + "\n");
            List<String> common = List.of("--provider", "ec2", "--metadata-endpoint", server.uri().toString(),
                    "--user-data-file", userData.toString(), "--state-dir", dir.resolve("state").toString(),
                    "--log-dir", dir.resolve("log").toString(), "--report-url", "http://" + srv + "/reports");
            assertThat(agent("run", common)).as("a real failure first").isEqualTo(1);
            Map<Path, byte[]> before = snapshot(dir.resolve("state"));
            String row = get(server.uri().resolve("/status.json"));
            assertThat(row).contains("\"failed\" : 1");

            assertThat(agent("run", Stream.concat(common.stream(), Stream.of("--dry-run")).toList())).isZero();

            Map<Path, byte[]> after = snapshot(dir.resolve("state"));
            assertThat(after.keySet()).isEqualTo(before.keySet());
            before.forEach((p, bytes) -> assertThat(after.get(p)).as(p.toString()).isEqualTo(bytes));
            assertThat(get(server.uri().resolve("/status.json"))).isEqualTo(row);
        }
    }

    private int agent(String command, List<String> args) {
        CommandLine cl = WhatamiAgent.commandLine(Map.of("PATH", System.getenv("PATH")));
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(new StringWriter(), true));
        return cl.execute(Stream.concat(Stream.of(command), args.stream()).toArray(String[]::new));
    }

    private static Map<Path, byte[]> snapshot(Path root) throws IOException {
        Map<Path, byte[]> files = new java.util.TreeMap<>();
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all.filter(Files::isRegularFile)::iterator) {
                files.put(root.relativize(p), Files.readAllBytes(p));
            }
        }
        return files;
    }

    private static String get(URI uri) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }
}
