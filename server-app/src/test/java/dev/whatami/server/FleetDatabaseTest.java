package dev.whatami.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.metadata.RetryPolicy;
import dev.whatami.server.reports.JdbcReportStore;
import dev.whatami.server.reports.ReportLimits;
import dev.whatami.server.reports.ReportQuery;
import dev.whatami.server.reports.ReportStore;
import dev.whatami.server.reports.TestPostgres;
import dev.whatami.server.reports.TestReports;
import dev.whatami.status.RunState;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several servers, one truth: two servers on one PostgreSQL accept reports and show the same page; the
 * database restarted while reports stream in costs 503s (with Retry-After) that a client retrying under a
 * {@link RetryPolicy} gets past — no report is lost; the server's command line takes the database with its
 * credentials from the environment or a file, never from the URL, and shows them nowhere. Needs PostgreSQL
 * ({@link TestPostgres}).
 */
class FleetDatabaseTest {
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

    @BeforeEach
    void empty() throws Exception {
        pg.truncate();
    }

    private ScriptServer server(ReportStore store) throws Exception {
        Path root = Files.createDirectories(dir.resolve("www"));
        return ScriptServer.builder(root).bind("127.0.0.1").port(0).reports(store).build().start();
    }

    private static byte[] report(int i) {
        return TestReports.report("i-" + i, i % 2 == 0 ? "ec2" : "gce", "run-1", 3,
                Instant.parse("2026-12-02T00:00:00Z"), i % 10 == 0 ? RunState.FAILED : RunState.DONE,
                List.of(i % 3 == 0 ? "processor.pl" : "collector.pl"), 0);
    }

    private static String get(HttpClient http, URI uri) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("GET %s", uri).isEqualTo(200);
        return r.body();
    }

    @Test
    void twoServersOnOneDatabase_showTheSamePage_andTheDatabaseRestartingMidStreamLosesNoReport() throws Exception {
        int reports = 240;
        ReportLimits limits = ReportLimits.defaults();
        try (JdbcReportStore storeA = pg.store(limits, Clock.systemUTC());
                JdbcReportStore storeB = pg.store(limits, Clock.systemUTC())) {
            ScriptServer a = server(storeA);
            ScriptServer b = server(storeB);
            try {
                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
                // the agent's reporter retries under the shared policy type; here with a budget long enough to
                // outlast a database restart on a busy machine
                RetryPolicy policy = RetryPolicy.builder().baseDelay(Duration.ofMillis(200))
                        .maxDelay(Duration.ofSeconds(1)).deadline(Duration.ofSeconds(60)).build();
                SplittableRandom random = new SplittableRandom(18);
                AtomicInteger unavailable = new AtomicInteger();
                AtomicInteger withoutRetryAfter = new AtomicInteger();
                CountDownLatch halfway = new CountDownLatch(1);
                CountDownLatch restarted = new CountDownLatch(1);
                CompletableFuture<Void> restart = CompletableFuture.runAsync(() -> {
                    try {
                        halfway.await();
                        pg.stop();
                        Thread.sleep(1500);
                        pg.start();
                        restarted.countDown();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                List<Integer> attempts = new ArrayList<>();
                for (int i = 0; i < reports; i++) {
                    if (i == reports / 3) {
                        halfway.countDown();
                        // wait until the database is really down, so the stream meets the outage
                        for (int w = 0; w < 100 && restarted.getCount() > 0 && !pgDown(); w++) {
                            Thread.sleep(50);
                        }
                    }
                    URI target = URI.create((i % 2 == 0 ? a : b).uri() + "/reports");
                    Instant began = Instant.now();
                    int attempt = 0;
                    while (true) {
                        attempt++;
                        int code;
                        try {
                            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(target)
                                    .POST(HttpRequest.BodyPublishers.ofByteArray(report(i)))
                                    .header("Content-Type", "application/json").timeout(Duration.ofSeconds(10))
                                    .build(), HttpResponse.BodyHandlers.discarding());
                            code = r.statusCode();
                            if (code == 503) {
                                unavailable.incrementAndGet();
                                if (r.headers().firstValue("Retry-After").isEmpty()) {
                                    withoutRetryAfter.incrementAndGet();
                                }
                            }
                        } catch (java.io.IOException e) {
                            code = -1;
                        }
                        if (code == 204) {
                            break;
                        }
                        assertThat(code).as("report %d attempt %d", i, attempt).isIn(503, -1);
                        assertThat(policy.allowsAttempt(attempt)
                                && Duration.between(began, Instant.now()).compareTo(policy.deadline()) < 0)
                                .as("report %d still retried within its budget", i).isTrue();
                        Thread.sleep(policy.delay(attempt, random).toMillis());
                    }
                    attempts.add(attempt);
                }
                restart.get();
                assertThat(unavailable.get()).as("reports met the outage").isPositive();
                assertThat(withoutRetryAfter.get()).isZero();
                assertThat(attempts).anyMatch(n -> n > 1);

                String pageA = get(http, URI.create(a.uri() + "/status.json?per=1000"));
                String pageB = get(http, URI.create(b.uri() + "/status.json?per=1000"));
                assertThat(pageA).isEqualTo(pageB).contains("\"instances\" : " + reports);
                for (int i = 0; i < reports; i++) {
                    assertThat(pageA).contains("\"instanceId\" : \"i-" + i + "\"");
                }
                String htmlA = get(http, URI.create(a.uri() + "/status?state=failed"));
                assertThat(htmlA).isEqualTo(get(http, URI.create(b.uri() + "/status?state=failed")));
                assertThat(storeA.page(ReportQuery.all()).matching()).isEqualTo(reports);
                // and both count the same fleet in /metrics
                assertThat(get(http, URI.create(a.uri() + "/metrics"))).contains("whatami_reports_kept{state=\"failed\"} "
                        + (reports / 10) + ".0");
            } finally {
                a.close();
                b.close();
            }
        }
    }

    private static boolean pgDown() {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress("127.0.0.1", pg.port()), 200);
            return false;
        } catch (java.io.IOException e) {
            return true;
        }
    }

    private record Run(int exit, String out, String err) {
    }

    private Run cli(Map<String, String> env, String... args) {
        return cli(env, new ByteArrayOutputStream(), new ByteArrayOutputStream(), args);
    }

    private Run cli(Map<String, String> env, ByteArrayOutputStream out, ByteArrayOutputStream err, String... args) {
        picocli.CommandLine cl = WhatamiServer.commandLine(env);
        cl.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        cl.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theCommandLine_takesCredentialsFromTheEnvironmentOrAFile_neverFromTheUrl_andShowsThemNowhere()
            throws Exception {
        Path root = Files.createDirectories(dir.resolve("www"));
        Run inUrl = cli(Map.of(), "--root", root.toString(), "--port", "0", "--database",
                pg.jdbcUrl() + "?user=whatami&password=" + pg.password());
        assertThat(inUrl.exit()).isEqualTo(2);
        assertThat(inUrl.err()).startsWith("whatami-server: --database must not carry credentials (its password= "
                + "would be visible to every user of this machine in the process list)")
                .doesNotContain(pg.password());

        Path wrong = dir.resolve("wrong-password");
        Files.writeString(wrong, "not-" + pg.password() + "\n");
        Run bad = cli(Map.of("WHATAMI_DATABASE_USER", TestPostgres.USER), "--root", root.toString(), "--port", "0",
                "--database", pg.jdbcUrl(), "--database-password-file", wrong.toString());
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).isEqualTo("whatami-server: cannot use the database " + pg.jdbcUrl() + ": FATAL: "
                + "password authentication failed for user \"whatami\"\n").doesNotContain(pg.password());

        Run both = cli(Map.of(), "--root", root.toString(), "--database", pg.jdbcUrl(), "--data-dir", dir.toString());
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).isEqualTo("whatami-server: give --database or --data-dir, not both (with --database "
                + "the reports are kept in the database)\n");

        Run down = cli(Map.of(), "--root", root.toString(), "--database", "jdbc:postgresql://127.0.0.1:"
                + closedPort() + "/postgres");
        assertThat(down.exit()).isEqualTo(2);
        assertThat(down.err()).startsWith("whatami-server: cannot use the database jdbc:postgresql://127.0.0.1:")
                .contains("Connection to 127.0.0.1:").contains("refused");
    }

    @Test
    void aServerStartedByTheCommandLine_withThePasswordFromTheEnvironment_keepsReportsInTheDatabase()
            throws Exception {
        Path root = Files.createDirectories(dir.resolve("www"));
        int port = closedPort();
        Map<String, String> env = Map.of("WHATAMI_DATABASE_USER", TestPostgres.USER, "WHATAMI_DATABASE_PASSWORD",
                pg.password());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CompletableFuture<Run> running = CompletableFuture.supplyAsync(() -> cli(env, out, err, "--root", root.toString(),
                "--bind", "127.0.0.1", "--port", String.valueOf(port), "--database", pg.jdbcUrl()));
        HttpClient http = HttpClient.newHttpClient();
        URI base = URI.create("http://127.0.0.1:" + port);
        for (int i = 0; i < 200; i++) {
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(base + "/healthz")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    break;
                }
            } catch (java.io.IOException e) {
                Thread.sleep(100);
            }
        }
        assertThat(running).isNotDone();
        String started;
        synchronized (out) {
            started = out.toString(StandardCharsets.UTF_8);
        }
        assertThat(started).contains("reports at " + base + "/reports, status at " + base + "/status (kept in "
                + "PostgreSQL at " + pg.jdbcUrl() + "; readable from this machine only)").doesNotContain(pg.password());
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/reports"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(report(7))).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(204);
        try (JdbcReportStore direct = pg.store(ReportLimits.defaults(), Clock.systemUTC())) {
            assertThat(direct.page(ReportQuery.all()).reports()).singleElement()
                    .satisfies(r -> assertThat(r.status().instance().orElseThrow().instanceId()).isEqualTo("i-7"));
        }
        for (String path : List.of("/status", "/status.json", "/metrics")) {
            assertThat(get(http, URI.create(base + path))).doesNotContain(pg.password());
        }
        // the server runs until the JVM stops it; this one is left to the test JVM's end (a daemon-less
        // picocli call cannot be interrupted), its pool on a database the suite stops
        assertThat(running).isNotDone();
    }

    private static int closedPort() {
        return dev.whatami.testsupport.Ports.free();
    }
}
