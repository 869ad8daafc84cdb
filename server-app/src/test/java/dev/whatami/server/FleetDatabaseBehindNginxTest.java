package dev.whatami.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.server.reports.TestPostgres;
import dev.whatami.server.reports.TestReports;
import dev.whatami.status.RunState;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two servers on one PostgreSQL behind nginx show the same page. Two real {@code whatami-server}
 * processes ({@code --database}, the password from the environment) on one {@link TestPostgres}, a real nginx
 * ({@link TestNginx}) balancing them round robin with the configuration the README recommends. Reports POSTed through
 * nginx land on both; the fleet page, {@code /status.json} and a filtered, paged variant of each, asked through nginx
 * again and again, are served by both servers (nginx names the upstream in {@code X-Upstream}) and are byte for byte
 * the same — the page has nothing of the server that renders it (no clock, no host name: the "reported" time is the
 * receiving server's stamp, kept in the database), so a user reloading it behind a load balancer sees one page, not two
 * that differ. Then one server is killed (SIGKILL): the page through nginx is still the same, and reports POSTed after
 * the kill — also those whose round-robin turn is the dead server's — land. Needs PostgreSQL and nginx; skipped loudly
 * without them, failed under {@code WHATAMI_REQUIRE_POSTGRES=1} / {@code WHATAMI_REQUIRE_NGINX=1}.
 */
class FleetDatabaseBehindNginxTest {
    /**
     * As the README says, with {@code fail_timeout} shortened to 1 s (so the test sees nginx try the dead server
     * again), and {@code X-Upstream} for the test to see who answered.
     */
    static final String LOAD_BALANCER = """
              upstream whatami-servers {
                server 127.0.0.1:PORT1 max_fails=1 fail_timeout=1s;
                server 127.0.0.1:PORT2 max_fails=1 fail_timeout=1s;
                keepalive 16;
              }
              server {
                listen 127.0.0.1:$PORT;
                location / {
                  proxy_pass http://whatami-servers;
                  proxy_http_version 1.1;
                  proxy_set_header Connection "";
                  proxy_connect_timeout 2s;
                  proxy_next_upstream error timeout non_idempotent;
                  add_header X-Upstream $upstream_addr always;
                }
              }
            """;

    static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+) ");

    static TestPostgres pg;

    @TempDir
    Path dir;

    @BeforeAll
    static void database() throws Exception {
        pg = TestPostgres.startOrSkip();
    }

    @AfterAll
    static void stop() throws Exception {
        if (pg != null) {
            pg.close();
        }
    }

    /** A whatami-server process on the test's database. */
    static final class ServerProcess implements AutoCloseable {
        final Process process;
        final Path log;
        int port;

        ServerProcess(Path root, Path log) throws IOException {
            this.log = log;
            ProcessBuilder b = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                    "dev.whatami.server.WhatamiServer", "--root", root.toString(), "--bind", "127.0.0.1", "--port", "0",
                    "--database", pg.jdbcUrl(), "--database-user", TestPostgres.USER)
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            b.environment().put("WHATAMI_DATABASE_PASSWORD", pg.password());
            this.process = b.start();
        }

        /** Waits for its "listening on" line (a busy machine starts a JVM slowly). */
        ServerProcess awaitListening() throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (System.nanoTime() < deadline) {
                String out = Files.readString(log, StandardCharsets.UTF_8);
                Matcher m = LISTENING.matcher(out);
                if (m.find()) {
                    port = Integer.parseInt(m.group(1));
                    assertThat(out).doesNotContain(pg.password());
                    return this;
                }
                assertThat(process.isAlive()).as("whatami-server exited: %s", out).isTrue();
                Thread.sleep(100);
            }
            throw new AssertionError("whatami-server did not listen within 90 s: " + Files.readString(log));
        }

        String upstream() {
            return "127.0.0.1:" + port;
        }

        /** SIGKILL: no shutdown hook, no goodbye to nginx or the database. */
        void kill() throws InterruptedException {
            process.destroyForcibly();
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }

        @Override
        public void close() throws InterruptedException {
            kill();
        }
    }

    record Answer(int status, String upstream, String body) {
    }

    private static Answer send(HttpClient http, HttpRequest request) throws Exception {
        HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
        return new Answer(r.statusCode(), r.headers().firstValue("X-Upstream").orElse(""), r.body());
    }

    private static Answer get(HttpClient http, URI uri) throws Exception {
        return send(http, HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).build());
    }

    private static Answer post(HttpClient http, URI base, int i) throws Exception {
        return send(http, HttpRequest.newBuilder(URI.create(base + "/reports")).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(report(i))).build());
    }

    /** i-0 … : on ec2 and gce, every tenth failed, three roles. */
    private static byte[] report(int i) {
        return TestReports.report("i-" + i, i % 2 == 0 ? "ec2" : "gce", "run-1", 2,
                Instant.parse("2026-12-02T00:00:00Z").plusSeconds(i), i % 10 == 0 ? RunState.FAILED : RunState.DONE,
                List.of(i % 3 == 0 ? "processor.pl" : "collector.pl"), 0);
    }

    /** The upstream that answered: nginx lists every one it tried, the last answered. */
    private static String servedBy(Answer a) {
        String[] tried = a.upstream().split(",\\s*");
        return tried[tried.length - 1];
    }

    static final List<String> PAGES = List.of("/status", "/status.json", "/status?state=failed",
            "/status.json?provider=gce&per=4&page=2", "/status?role=processor.pl&per=3&page=2");

    /** Each page asked {@code times} times through nginx: the bodies must be one; returns path → (body, who served). */
    private static Map<String, Map.Entry<String, Set<String>>> pagesThrough(HttpClient http, URI lb, int times)
            throws Exception {
        Map<String, Map.Entry<String, Set<String>>> seen = new LinkedHashMap<>();
        for (String path : PAGES) {
            Set<String> bodies = new LinkedHashSet<>();
            Set<String> servers = new LinkedHashSet<>();
            for (int n = 0; n < times; n++) {
                Answer a = get(http, URI.create(lb + path));
                assertThat(a.status()).as("GET %s through nginx (upstream %s)", path, a.upstream()).isEqualTo(200);
                bodies.add(a.body());
                servers.add(servedBy(a));
            }
            assertThat(bodies).as("GET %s through nginx, %d times: one page", path, times).hasSize(1);
            seen.put(path, Map.entry(bodies.iterator().next(), servers));
        }
        return seen;
    }

    @Test
    void twoServersOnOnePostgresBehindNginx_showTheSamePage_andStillDoWithOneKilled() throws Exception {
        pg.truncate();
        Path root = Files.createDirectories(dir.resolve("www"));
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        // both start at once: the schema is applied once, under the database's advisory lock
        try (ServerProcess s1 = new ServerProcess(root, dir.resolve("s1.log"));
                ServerProcess s2 = new ServerProcess(root, dir.resolve("s2.log"))) {
            s1.awaitListening();
            s2.awaitListening();
            try (TestNginx lb = TestNginx.startOrSkip(LOAD_BALANCER.replace("PORT1", String.valueOf(s1.port))
                    .replace("PORT2", String.valueOf(s2.port)))) {
                int reports = 40;
                Set<String> receivedBy = new LinkedHashSet<>();
                for (int i = 0; i < reports; i++) {
                    Answer a = post(http, lb.uri(), i);
                    assertThat(a.status()).as("report %d through nginx", i).isEqualTo(204);
                    receivedBy.add(servedBy(a));
                }
                assertThat(receivedBy).as("round robin: both servers took reports")
                        .containsExactlyInAnyOrder(s1.upstream(), s2.upstream());

                Map<String, Map.Entry<String, Set<String>>> before = pagesThrough(http, lb.uri(), 4);
                for (String path : PAGES) {
                    assertThat(before.get(path).getValue()).as("GET %s served by both", path)
                            .containsExactlyInAnyOrder(s1.upstream(), s2.upstream());
                    // and what each server says itself, asked directly
                    String page = before.get(path).getKey();
                    assertThat(get(http, URI.create("http://" + s1.upstream() + path)).body()).isEqualTo(page);
                    assertThat(get(http, URI.create("http://" + s2.upstream() + path)).body()).isEqualTo(page);
                }
                String all = before.get("/status.json").getKey();
                assertThat(all).contains("\"instances\" : " + reports, "\"matching\" : " + reports);
                for (int i = 0; i < reports; i++) {
                    assertThat(all).contains("\"instanceId\" : \"i-" + i + "\"");
                }
                // 20 on gce (the odd ones), 4 a page: the second page has four of them
                String gce = before.get("/status.json?provider=gce&per=4&page=2").getKey();
                assertThat(gce).contains("\"matching\" : 20", "\"page\" : 2", "\"pages\" : 5");
                assertThat(Pattern.compile("\"instanceId\" : \"(i-\\d+)\"").matcher(gce).results()
                        .map(m -> m.group(1)).toList()).hasSize(4).allSatisfy(id -> assertThat(
                        Integer.parseInt(id.substring(2)) % 2).isEqualTo(1));
                String failed = before.get("/status?state=failed").getKey();
                for (int i = 0; i < reports; i += 10) {
                    assertThat(failed).contains(">i-" + i + "<");
                }
                assertThat(failed).doesNotContain(">i-1<");

                s1.kill();
                Map<String, Map.Entry<String, Set<String>>> after = pagesThrough(http, lb.uri(), 4);
                for (String path : PAGES) {
                    assertThat(after.get(path).getKey()).as("GET %s through nginx, server 1 killed", path)
                            .isEqualTo(before.get(path).getKey());
                    assertThat(after.get(path).getValue()).as("GET %s after the kill", path)
                            .containsExactly(s2.upstream());
                }
                // nginx counts the dead server out for fail_timeout (1 s here) after a failed try; past it, it gives
                // the dead server its turn again: a report whose turn that is must be passed on, not lost. nginx
                // keeps that time in whole seconds (ngx_time(); out while now - checked <= 1), so "1 s" lasts up to
                // 2 s: 1.5 s was sometimes not enough (CI: all four reports went straight to server 2)
                Thread.sleep(2200);
                // reports after the kill land, also those whose turn in the round robin is the dead server's
                List<String> tried = new ArrayList<>();
                for (int i = reports; i < reports + 4; i++) {
                    Answer a = post(http, lb.uri(), i);
                    assertThat(a.status()).as("report %d through nginx after the kill (tried %s)", i, a.upstream())
                            .isEqualTo(204);
                    assertThat(servedBy(a)).isEqualTo(s2.upstream());
                    tried.add(a.upstream());
                }
                // nginx gave the dead server its turn (connection refused, so not sent: passed on), then counted it
                // out again (max_fails=1)
                assertThat(tried).as("what nginx tried for each report after the kill")
                        .contains(s1.upstream() + ", " + s2.upstream());
                String now = get(http, URI.create(lb.uri() + "/status.json")).body();
                assertThat(now).contains("\"instances\" : " + (reports + 4));
                for (int i = reports; i < reports + 4; i++) {
                    assertThat(now).contains("\"instanceId\" : \"i-" + i + "\"");
                }
                assertThat(get(http, URI.create(lb.uri() + "/status")).body()).contains("<b>" + (reports + 4)
                        + "</b> instance(s); <b class=\"failed\">5</b> failed");
                System.out.println("FleetDatabaseBehindNginxTest: after the kill, reports went to " + tried
                        + "; nginx error log: " + lb.errorLog().lines().filter(l -> l.contains("upstream")).count()
                        + " upstream errors");
            }
        }
    }
}
