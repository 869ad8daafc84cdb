package dev.whatami.server.reports;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.server.ScriptServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportsTest {
    @TempDir
    Path dir;
    private ScriptServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private void start(ReportStore store, String token) throws Exception {
        ScriptServer.Builder b = ScriptServer.builder(Files.createDirectories(dir.resolve("www"))).bind("127.0.0.1")
                .port(0).reports(store);
        if (token != null) {
            b.reportToken(token);
        }
        server = b.build().start();
    }

    private HttpResponse<String> post(String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.uri() + "/reports"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private String get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(server.uri() + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void report_isShownOnTheStatusPageAndInJson() throws Exception {
        start(ReportStore.inMemory(), null);
        assertThat(post("{\"instanceId\":\"i-1\",\"provider\":\"ec2\",\"state\":\"done\",\"exitCode\":0,"
                + "\"tasks\":[{\"name\":\"collector.pl\",\"state\":\"succeeded\",\"exitCode\":0}]}").statusCode())
                .isEqualTo(204);
        assertThat(get("/status")).contains("<td>i-1</td>").contains("collector.pl: succeeded (exit 0)")
                .contains("<td class=\"done\">done</td>").contains("http-equiv=\"refresh\"");
        assertThat(get("/status.json")).contains("\"instanceId\" : \"i-1\"").contains("\"receivedAt\"")
                .contains("\"version\" : 2");
    }

    @Test
    void untrustedValues_areEscaped() throws Exception {
        start(ReportStore.inMemory(), null);
        assertThat(post("{\"instanceId\":\"<script>alert(1)</script>\",\"provider\":\"<img src=x onerror=alert(2)>\","
                + "\"state\":\"failed\",\"message\":\"a & b \\\"q\\\" 'x'\",\"tasks\":[{\"name\":\"<b>n</b>\","
                + "\"state\":\"failed\",\"exitCode\":3,\"message\":\"<i>why</i>\","
                + "\"tail\":{\"stdout\":[\"ok\"],\"stderr\":[\"</pre><script>alert(3)</script>\"]}}]}").statusCode())
                .isEqualTo(204);
        String page = get("/status");
        assertThat(page).doesNotContain("<script>").doesNotContain("<img").doesNotContain("<b>n").doesNotContain("<i>")
                .contains("&lt;script&gt;alert(1)&lt;/script&gt;").contains("a &amp; b &quot;q&quot; &#39;x&#39;")
                .contains("&lt;/pre&gt;&lt;script&gt;alert(3)").contains("&lt;b&gt;n&lt;/b&gt;: failed (exit 3) — "
                + "&lt;i&gt;why&lt;/i&gt;<pre class=\"stdout\" title=\"last lines of stdout\">ok\n</pre>");
    }

    @Test
    void invalidReports_areRefusedWithAReason() throws Exception {
        start(ReportStore.inMemory(), null);
        HttpResponse<String> r = post("{\"state\":\"done\"}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).isEqualTo("the report needs \"instanceId\": a string of 1-255 characters\n");
        assertThat(post("not json").statusCode()).isEqualTo(400);
        assertThat(post("{\"instanceId\":\"i\",\"state\":\"done\",\"tasks\":5}").body())
                .isEqualTo("status document: tasks must be an array, got a number\n");
        assertThat(post("{\"instanceId\":\"i\"}").body()).isEqualTo("status document: state is missing; it must be a "
                + "string\n");
        assertThat(post("{\"instanceId\":\"" + "x".repeat(ReportStore.MAX_BYTES) + "\"}").statusCode()).isEqualTo(413);
        assertThat(get("/status.json")).contains("\"instances\" : [ ]").contains("\"matching\" : 0");
    }

    @Test
    void token_isRequiredWhenSet() throws Exception {
        start(ReportStore.inMemory(), "s3cret");
        String report = "{\"instanceId\":\"i-1\",\"state\":\"done\"}";
        assertThat(post(report).statusCode()).isEqualTo(401);
        assertThat(post(report, "Authorization", "Bearer wrong").statusCode()).isEqualTo(401);
        assertThat(get("/status.json")).doesNotContain("i-1");
        assertThat(post(report, "Authorization", "Bearer s3cret").statusCode()).isEqualTo(204);
    }

    @Test
    void reports_surviveARestart() throws Exception {
        start(ReportStore.persistent(dir.resolve("data"), java.time.Clock.systemUTC()), null);
        post("{\"instanceId\":\"i-keep\",\"state\":\"done\"}");
        server.close();
        start(ReportStore.persistent(dir.resolve("data"), java.time.Clock.systemUTC()), null);
        assertThat(get("/status.json")).contains("i-keep");
        assertThat(dir.resolve("data/reports/" + EmbeddedReportStore.fileName("i-keep"))).exists();
    }

    @Test
    void emptyStatusPage_saysHowToReport() throws Exception {
        start(ReportStore.inMemory(), null);
        assertThat(get("/status")).contains("No instance has reported yet");
    }
}
