package dev.whatami.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.whatami.server.ScriptServer;
import dev.whatami.server.reports.ReportStore;
import dev.whatami.server.reports.TestReports;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /metrics} in the Prometheus text format, parsed back by the Prometheus client library's own parser (the
 * Python client's {@code text_string_to_metric_families}; the Java client has none). Skipped loudly without it,
 * unless WHATAMI_REQUIRE_PROMETHEUS=1, as CI sets.
 */
class MetricsTest {
    static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final String PARSE = String.join("\n",
            "import sys, json",
            "from prometheus_client.parser import text_string_to_metric_families",
            "out = []",
            "for f in text_string_to_metric_families(sys.stdin.read()):",
            "    for s in f.samples:",
            "        out.append({'family': f.name, 'type': f.type, 'name': s.name, 'labels': s.labels, 'value': s.value})",
            "print(json.dumps(out))");

    @TempDir
    Path dir;

    private static boolean parserPresent() throws Exception {
        if (!Files.isExecutable(PYTHON)) {
            return false;
        }
        Process p = new ProcessBuilder(PYTHON.toString(), "-c", "import prometheus_client.parser").start();
        return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    }

    @Test
    void metrics_areValidPrometheusText_withRequestsUploadsReportsAndConnections() throws Exception {
        boolean present = parserPresent();
        if (!present) {
            System.err.println("SKIPPED MetricsTest: the Prometheus client's parser is not installed (apt-get install "
                    + "python3-prometheus-client); .ci/run installs it and sets WHATAMI_REQUIRE_PROMETHEUS=1");
            assertThat(System.getenv("WHATAMI_REQUIRE_PROMETHEUS")).as("WHATAMI_REQUIRE_PROMETHEUS is set but the "
                    + "parser is missing").isNotEqualTo("1");
        }
        assumeTrue(present, "python3-prometheus-client is not installed");
        Path root = Files.createDirectories(dir.resolve("www"));
        Files.writeString(root.resolve("c.sh"), "echo metrics\n");
        try (ScriptServer server = ScriptServer.builder(root).bind("127.0.0.1").port(0).uploadToken("upload-token-1")
                .reports(ReportStore.inMemory()).build().start()) {
            HttpClient http = HttpClient.newHttpClient();
            URI base = server.uri();
            for (int i = 0; i < 3; i++) {
                http.send(HttpRequest.newBuilder(base.resolve("/scriptserver/c.sh")).build(),
                        HttpResponse.BodyHandlers.discarding());
            }
            http.send(HttpRequest.newBuilder(base.resolve("/scriptserver/missing.sh")).build(),
                    HttpResponse.BodyHandlers.discarding());
            http.send(HttpRequest.newBuilder(base.resolve("/scriptserver/u.sh")).header("Authorization",
                    "Bearer upload-token-1").PUT(HttpRequest.BodyPublishers.ofString("echo u\n")).build(),
                    HttpResponse.BodyHandlers.discarding());
            byte[] failed = TestReports.report("i-f", "r", 1, java.time.Instant.now(),
                    dev.whatami.status.RunState.FAILED, "p.sh");
            for (byte[] body : List.of(TestReports.report("i-1"), TestReports.report("i-1"), failed,
                    "{}".getBytes(StandardCharsets.UTF_8))) {
                http.send(HttpRequest.newBuilder(base.resolve("/reports")).POST(HttpRequest.BodyPublishers
                        .ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding());
            }
            HttpResponse<String> m = http.send(HttpRequest.newBuilder(base.resolve("/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(m.statusCode()).isEqualTo(200);
            assertThat(m.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
                    .startsWith("text/plain; version=0.0.4"));

            Process p = new ProcessBuilder(PYTHON.toString(), "-c", PARSE).redirectError(
                    dir.resolve("parse.err").toFile()).start();
            p.getOutputStream().write(m.body().getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            String parsed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(Files.readString(dir.resolve("parse.err"))).isZero();
            Map<String, Double> v = new HashMap<>();
            Map<String, String> types = new HashMap<>();
            for (Object o : JSON.std.listFrom(parsed)) {
                @SuppressWarnings("unchecked")
                Map<String, Object> s = (Map<String, Object>) o;
                @SuppressWarnings("unchecked")
                Map<String, Object> labels = new java.util.TreeMap<>((Map<String, Object>) s.get("labels"));
                v.put(s.get("name") + labels.toString(), ((Number) s.get("value")).doubleValue());
                types.put((String) s.get("family"), (String) s.get("type"));
            }
            assertThat(v).containsEntry("whatami_http_requests_total{method=GET, route=scripts, status=200}", 3.0)
                    .containsEntry("whatami_http_requests_total{method=GET, route=scripts, status=404}", 1.0)
                    .containsEntry("whatami_http_requests_total{method=POST, route=reports, status=204}", 3.0)
                    .containsEntry("whatami_http_requests_total{method=POST, route=reports, status=400}", 1.0)
                    .containsEntry("whatami_uploads_total{method=PUT, status=201}", 1.0)
                    .containsEntry("whatami_reports_received_total{outcome=stored}", 2.0)
                    .containsEntry("whatami_reports_received_total{outcome=duplicate}", 1.0)
                    .containsEntry("whatami_reports_received_total{outcome=refused}", 1.0)
                    .containsEntry("whatami_reports_kept{state=done}", 1.0)
                    .containsEntry("whatami_reports_kept{state=failed}", 1.0);
            assertThat(v.get("whatami_http_response_bytes_total{route=scripts}")).isGreaterThanOrEqualTo(3 * 13);
            assertThat(v.get("whatami_connections_open{}")).isGreaterThanOrEqualTo(1.0);
            assertThat(types).containsEntry("whatami_http_requests", "counter")
                    .containsEntry("whatami_connections_open", "gauge");
        }
    }
}
