package dev.whatami.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.whatami.server.reports.TestReports;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * As reported: 1,500 reports of 200 KB from strangers (no report token) took a server with a
 * 256 MB heap down. Here a real server process with half that heap and the default limits takes them all and
 * keeps answering.
 */
class ReportFloodTest {
    @TempDir
    Path dir;

    @Test
    void fifteenHundredReportsOf200KB_doNotExhaustA128MBHeap() throws Exception {
        Path root = Files.createDirectories(dir.resolve("www"));
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
                "-XX:+ExitOnOutOfMemoryError", "-cp", System.getProperty("java.class.path"),
                "dev.whatami.server.WhatamiServer", "--root", root.toString(), "--bind", "127.0.0.1", "--port", "0")
                .redirectErrorStream(true).redirectOutput(dir.resolve("server.log").toFile()).start();
        try {
            String line = "";
            for (int i = 0; i < 600 && !line.contains("listening on"); i++) {
                Thread.sleep(50);
                line = Files.readString(dir.resolve("server.log"));
            }
            assertThat(line).contains("listening on http://127.0.0.1:");
            URI base = URI.create(line.replaceAll("(?s).*listening on (http://127\\.0\\.0\\.1:\\d+).*", "$1"));
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            int[] refused = {0};
            IntStream.range(0, 1500).parallel().forEach(i -> {
                byte[] body = TestReports.big("i-flood-" + i, 200);
                try {
                    int status = http.send(HttpRequest.newBuilder(base.resolve("/reports"))
                            .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode();
                    if (status != 204) {
                        synchronized (refused) {
                            refused[0]++;
                        }
                    }
                } catch (Exception e) {
                    String log;
                    try {
                        log = Files.readString(dir.resolve("server.log"));
                    } catch (java.io.IOException x) {
                        log = x.toString();
                    }
                    throw new AssertionError("report " + i + " failed: " + e + "; alive " + p.isAlive() + "; log: "
                            + log.substring(Math.max(0, log.length() - 3000)), e);
                }
            });
            assertThat(p.isAlive()).as("the server survived").isTrue();
            assertThat(refused[0]).isZero();
            assertThat(http.send(HttpRequest.newBuilder(base.resolve("/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("ok\n");
            HttpResponse<String> status = http.send(HttpRequest.newBuilder(base.resolve("/status.json?per=5")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(status.statusCode()).isEqualTo(200);
            @SuppressWarnings("unchecked")
            Map<String, Object> counts = (Map<String, Object>) JSON.std.mapFrom(status.body()).get("counts");
            long kept = ((Number) counts.get("instances")).longValue();
            // 64 MiB of ~205 KB reports: the newest ~320 are kept, the rest forgotten
            assertThat(kept).isBetween(250L, 330L);
            assertThat(http.send(HttpRequest.newBuilder(base.resolve("/status")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        } finally {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
            p.destroyForcibly();
        }
    }
}
