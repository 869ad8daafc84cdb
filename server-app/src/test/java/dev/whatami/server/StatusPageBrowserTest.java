package dev.whatami.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.whatami.server.reports.ReportStore;
import dev.whatami.server.reports.TestReports;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status page in a real headless Chromium: the rows render, hostile report values stay text, and a screenshot
 * lands in target/status-page.png. Skipped (loudly) without Chromium, unless WHATAMI_REQUIRE_BROWSER=1, as CI sets.
 */
class StatusPageBrowserTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @TempDir
    Path dir;

    private List<String> chromium(String... args) {
        List<String> cmd = new ArrayList<>(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + dir.resolve("profile")));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectError(dir.resolve("chromium.err").toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), UTF_8);
        assertThat(p.waitFor(90, TimeUnit.SECONDS)).as("chromium finished").isTrue();
        return out;
    }

    @Test
    void statusPage_rendersRows_andHostileValuesStayText() throws Exception {
        boolean present = Files.isExecutable(CHROMIUM);
        if (!present) {
            System.err.println("SKIPPED StatusPageBrowserTest: " + CHROMIUM + " is not installed (apt-get install "
                    + "chromium); .ci/run installs it and sets WHATAMI_REQUIRE_BROWSER=1");
            assertThat(System.getenv("WHATAMI_REQUIRE_BROWSER")).as("WHATAMI_REQUIRE_BROWSER is set but Chromium is "
                    + "missing").isNotEqualTo("1");
        }
        assumeTrue(present, "chromium is not installed");
        try (ScriptServer server = ScriptServer.builder(Files.createDirectories(dir.resolve("www"))).bind("127.0.0.1")
                .port(0).reports(ReportStore.inMemory()).build().start()) {
            HttpClient http = HttpClient.newHttpClient();
            for (String body : List.of(
                    "{\"instanceId\":\"i-collector\",\"provider\":\"ec2\",\"state\":\"done\",\"exitCode\":0,"
                            + "\"tasks\":[{\"name\":\"collector.pl\",\"state\":\"succeeded\",\"exitCode\":0}]}",
                    "{\"instanceId\":\"i-processor\",\"provider\":\"ec2\",\"state\":\"failed\",\"exitCode\":1,"
                            + "\"message\":\"<img src=x onerror=\\\"document.title='pwned'\\\">\","
                            + "\"tasks\":[{\"name\":\"processor.pl\",\"state\":\"failed\",\"exitCode\":3}]}")) {
                http.send(HttpRequest.newBuilder(URI.create(server.uri() + "/reports"))
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.discarding());
            }
            String page = server.uri() + "/status";
            String dom = run(chromium("--dump-dom", page));
            assertThat(dom).contains("<title>whatami: which instance became what</title>")
                    .contains("i-collector").contains("i-processor").contains("collector.pl: succeeded (exit 0)")
                    .contains("&lt;img src=x").doesNotContain("<img").doesNotContain("pwned</title>");
            assertThat(dom.split("class=\"instance\"", -1)).hasSize(3);

            Path shot = Path.of("target", "status-page.png").toAbsolutePath();
            Files.deleteIfExists(shot);
            run(chromium("--screenshot=" + shot, "--window-size=1200,500", page));
            assertThat(shot).exists();
            assertThat(Files.size(shot)).isGreaterThan(5_000);
        }
    }

    @Test
    void fleetPage_at10000Instances_countsAndFailuresFirst_renderInChromium() throws Exception {
        boolean present = Files.isExecutable(CHROMIUM);
        if (!present) {
            System.err.println("SKIPPED StatusPageBrowserTest: " + CHROMIUM + " is not installed (apt-get install "
                    + "chromium); .ci/run installs it and sets WHATAMI_REQUIRE_BROWSER=1");
            assertThat(System.getenv("WHATAMI_REQUIRE_BROWSER")).as("WHATAMI_REQUIRE_BROWSER is set but Chromium is "
                    + "missing").isNotEqualTo("1");
        }
        assumeTrue(present, "chromium is not installed");
        ReportStore store = ReportStore.inMemory();
        java.time.Instant t0 = java.time.Instant.parse("2026-12-02T00:00:00Z");
        String[] roles = {"collector.pl", "processor.pl", "web.sh"};
        for (int i = 0; i < 10_000; i++) {
            dev.whatami.status.RunState state = i % 97 == 0 ? dev.whatami.status.RunState.FAILED
                    : dev.whatami.status.RunState.DONE;
            store.accept(TestReports.report(String.format("i-%05d", i), "run", 1, t0, state, roles[i % 3]),
                    "10.0.0." + (i % 250));
        }
        try (ScriptServer server = ScriptServer.builder(Files.createDirectories(dir.resolve("www"))).bind("127.0.0.1")
                .port(0).reports(store).build().start()) {
            HttpClient http = HttpClient.newHttpClient();
            String page = server.uri() + "/status";
            http.send(HttpRequest.newBuilder(URI.create(page)).build(), HttpResponse.BodyHandlers.ofString()); // warm
            long start = System.nanoTime();
            HttpResponse<String> html = http.send(HttpRequest.newBuilder(URI.create(page)).build(),
                    HttpResponse.BodyHandlers.ofString());
            long pageMillis = (System.nanoTime() - start) / 1_000_000;
            start = System.nanoTime();
            HttpResponse<String> json = http.send(HttpRequest.newBuilder(URI.create(server.uri()
                    + "/status.json?per=1000&page=3")).build(), HttpResponse.BodyHandlers.ofString());
            long jsonMillis = (System.nanoTime() - start) / 1_000_000;
            assertThat(html.statusCode()).isEqualTo(200);
            assertThat(json.body()).contains("\"matching\" : 10000").contains("\"page\" : 3").contains("\"pages\" : 10");

            start = System.nanoTime();
            String dom = run(chromium("--dump-dom", page));
            long chromiumMillis = (System.nanoTime() - start) / 1_000_000;
            assertThat(dom).contains("<b>10000</b> instance(s)").contains("<b class=\"failed\">104</b> failed")
                    .contains("page 1 of 100 (10000 matching)").contains("rel=\"next\"");
            assertThat(dom.split("class=\"instance\"", -1)).hasSize(101);
            // failures first: the first 100 rows hold the 104 failed instances' first 100
            String firstRows = dom.substring(dom.indexOf("<tbody>", dom.indexOf("id=\"instances\"")));
            assertThat(firstRows.split("<td class=\"failed\">failed</td>", -1)).hasSize(101);

            Path shot = Path.of("target", "status-page-10000.png").toAbsolutePath();
            Files.deleteIfExists(shot);
            run(chromium("--screenshot=" + shot, "--window-size=1400,900", page));
            assertThat(shot).exists();
            String timing = "status page at 10,000 instances: GET /status " + pageMillis + " ms ("
                    + html.body().length() + " bytes), GET /status.json?per=1000 " + jsonMillis + " ms, Chromium "
                    + "load+render+dump " + chromiumMillis + " ms; load average " + Files.readString(
                    Path.of("/proc/loadavg")).strip() + "\n";
            Files.writeString(Path.of("target", "status-page-10000.txt"), timing);
            System.err.print(timing);
            assertThat(pageMillis).as("the page answers in well under a second").isLessThan(5_000);
        }
    }
}
