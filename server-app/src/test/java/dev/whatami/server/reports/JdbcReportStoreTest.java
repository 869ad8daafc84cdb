package dev.whatami.server.reports;

import static dev.whatami.server.reports.TestReports.report;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.server.ScriptServer;
import dev.whatami.status.RunState;
import dev.whatami.testsupport.FakeTime;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The PostgreSQL store keeps the embedded store's contract by the same rules: fed the same reports (idempotency,
 * stale runs, evictions by count and by bytes, 413s), both answer every verdict alike and every page — rows, order,
 * matching counts and fleet counts — byte for byte alike. Two stores on one database (two servers) are one store:
 * a retry sent to the other server is a duplicate, and the limits hold across them under concurrent writers. A schema
 * newer than the server is refused. Needs PostgreSQL ({@link TestPostgres}).
 */
class JdbcReportStoreTest {
    static TestPostgres pg;

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

    /** A clock that advances 1 ms at every reading, the same sequence for every store given one. */
    static Clock ticking() {
        return new FakeTime(Instant.parse("2026-12-02T00:00:00Z")).ticking(Duration.ofMillis(1));
    }

    @Test
    void fedTheSameReports_bothStoresGiveTheSameVerdicts_andTheSamePages() throws Exception {
        ReportLimits limits = new ReportLimits(60, 4096, 120 * 1024);
        Random random = new Random(18);
        List<String> providers = List.of("ec2", "gce", "azure");
        List<List<String>> roles = List.of(List.of("collector.pl"), List.of("processor.pl"),
                List.of("collector.pl", "processor.pl"), List.of());
        RunState[] states = {RunState.DONE, RunState.DONE, RunState.DONE, RunState.FAILED, RunState.RUNNING,
                RunState.INVALID, RunState.UNREACHABLE};
        Instant t0 = Instant.parse("2026-12-01T00:00:00Z");
        try (ReportStore embedded = ReportStore.embedded().limits(limits).clock(ticking()).build();
                JdbcReportStore jdbc = pg.store(limits, ticking())) {
            List<ReportStore.Accepted> verdicts = new ArrayList<>();
            int refused = 0;
            for (int n = 0; n < 900; n++) {
                int i = random.nextInt(120);
                String id = "i-" + i + (i % 7 == 0 ? "-Ä" : "");
                int run = random.nextInt(3);
                byte[] body = report(id, providers.get(i % 3), "run-" + run, random.nextInt(4),
                        t0.plusSeconds(run * 60L), states[random.nextInt(states.length)],
                        roles.get(random.nextInt(roles.size())), random.nextInt(20) == 0 ? 4000 : random.nextInt(900));
                ReportStore.Accepted a = null;
                Integer status = null;
                try {
                    a = embedded.accept(body, "10.0.0." + (i % 250));
                } catch (ReportStore.InvalidReportException e) {
                    status = e.status();
                }
                try {
                    assertThat(jdbc.accept(body, "10.0.0." + (i % 250))).as("report %d", n).isEqualTo(a);
                } catch (ReportStore.InvalidReportException e) {
                    assertThat(e.status()).as("report %d", n).isEqualTo(status);
                    refused++;
                }
                if (a != null) {
                    verdicts.add(a);
                }
            }
            // every kind of verdict happened, and the limits were reached
            assertThat(verdicts).contains(ReportStore.Accepted.STORED, ReportStore.Accepted.DUPLICATE,
                    ReportStore.Accepted.STALE);
            assertThat(refused).isPositive();
            assertThat(embedded.page(ReportQuery.all()).matching()).isEqualTo(60);

            List<ReportQuery> queries = new ArrayList<>();
            queries.add(ReportQuery.all());
            for (int offset : new int[] {0, 7, 55, 60, 100}) {
                queries.add(new ReportQuery(Optional.empty(), Optional.empty(), Optional.empty(), offset, 10));
            }
            queries.add(new ReportQuery(Optional.of("collector.pl"), Optional.empty(), Optional.empty(), 0, 1000));
            queries.add(new ReportQuery(Optional.of("collector.pl+processor.pl"), Optional.of(RunState.DONE),
                    Optional.empty(), 0, 5));
            queries.add(new ReportQuery(Optional.of(Fleet.NO_ROLE), Optional.empty(), Optional.of("gce"), 0, 1000));
            queries.add(new ReportQuery(Optional.empty(), Optional.of(RunState.FAILED), Optional.empty(), 2, 3));
            queries.add(new ReportQuery(Optional.empty(), Optional.empty(), Optional.of("nowhere"), 0, 10));
            queries.add(new ReportQuery(Optional.empty(), Optional.empty(), Optional.empty(), 0, 0));
            for (ReportQuery q : queries) {
                ReportPage e = embedded.page(q);
                ReportPage j = jdbc.page(q);
                assertThat(j.counts()).as("%s", q).isEqualTo(e.counts());
                assertThat(j.matching()).as("%s", q).isEqualTo(e.matching());
                assertThat(j.kept()).as("%s", q).hasSameSizeAs(e.kept());
                for (int k = 0; k < e.kept().size(); k++) {
                    assertThat(new String(j.kept().get(k), java.nio.charset.StandardCharsets.UTF_8)).as("%s row %d", q, k)
                            .isEqualTo(new String(e.kept().get(k), java.nio.charset.StandardCharsets.UTF_8));
                }
            }
        }
    }

    /**
     * The fleet page at 10,000 instances from PostgreSQL: byte for byte the page the embedded store gives for the same
     * reports (HTML and a paged /status.json), failures first; how long it took is written to
     * {@code target/status-page-10000-postgres.txt} (bench/RESULTS.md has the numbers; nothing here asserts a time).
     */
    @Test
    void aFleetOf10000_onPostgreSQL_showsTheEmbeddedStoresPage(@org.junit.jupiter.api.io.TempDir java.nio.file.Path www)
            throws Exception {
        Clock fixed = Clock.fixed(Instant.parse("2026-12-02T12:00:00Z"), ZoneOffset.UTC);
        Instant t0 = Instant.parse("2026-12-02T00:00:00Z");
        String[] roles = {"collector.pl", "processor.pl", "web.sh"};
        String[] providers = {"ec2", "gce", "azure", "openstack"};
        try (ReportStore embedded = ReportStore.embedded().clock(fixed).build();
                JdbcReportStore jdbc = pg.store(ReportLimits.defaults(), fixed)) {
            long fill = System.nanoTime();
            ExecutorService writers = Executors.newFixedThreadPool(6);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < 6; t++) {
                    int first = t;
                    done.add(writers.submit(() -> {
                        for (int i = first; i < 10_000; i += 6) {
                            RunState state = i % 97 == 0 ? RunState.FAILED : i % 251 == 0 ? RunState.RUNNING
                                    : RunState.DONE;
                            byte[] body = report(String.format("i-%05d", i), providers[i % 4], "run-1", 2,
                                    t0.plusSeconds(i), state, List.of(roles[i % 3]), 0);
                            assertThat(jdbc.accept(body, "10.0." + (i / 250) + "." + (i % 250)))
                                    .isEqualTo(ReportStore.Accepted.STORED);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                writers.shutdownNow(); // after a failure, no writer goes on into a closing store
                assertThat(writers.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            }
            long fillMillis = (System.nanoTime() - fill) / 1_000_000;
            for (int i = 0; i < 10_000; i++) {
                RunState state = i % 97 == 0 ? RunState.FAILED : i % 251 == 0 ? RunState.RUNNING : RunState.DONE;
                embedded.accept(report(String.format("i-%05d", i), providers[i % 4], "run-1", 2, t0.plusSeconds(i),
                        state, List.of(roles[i % 3]), 0), "10.0." + (i / 250) + "." + (i % 250));
            }
            try (ScriptServer fromDb = ScriptServer.builder(www).bind("127.0.0.1").port(0).reports(jdbc).build()
                    .start();
                    ScriptServer fromFiles = ScriptServer.builder(www).bind("127.0.0.1").port(0).reports(embedded)
                            .build().start()) {
                java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
                StringBuilder timing = new StringBuilder("status page at 10,000 instances from PostgreSQL (filled by 6 "
                        + "writers in " + fillMillis + " ms):");
                for (String path : List.of("/status", "/status.json?per=1000&page=3", "/status?state=failed",
                        "/status?role=web.sh&provider=gce&per=50&page=4")) {
                    get(http, fromDb.uri() + path); // warm
                    long start = System.nanoTime();
                    String db = get(http, fromDb.uri() + path);
                    long millis = (System.nanoTime() - start) / 1_000_000;
                    assertThat(db).as("GET %s from PostgreSQL and from the embedded store", path)
                            .isEqualTo(get(http, fromFiles.uri() + path));
                    timing.append(" GET ").append(path).append(' ').append(millis).append(" ms (")
                            .append(db.length()).append(" bytes);");
                }
                String page = get(http, fromDb.uri() + "/status");
                assertThat(page).contains("<b>10000</b> instance(s)").contains("<b class=\"failed\">104</b> failed")
                        .contains("page 1 of 100 (10000 matching)");
                String rows = page.substring(page.indexOf("<tbody>", page.indexOf("id=\"instances\"")));
                assertThat(rows.split("<td class=\"failed\">failed</td>", -1)).as("failures first").hasSize(101);
                assertThat(get(http, fromDb.uri() + "/status.json?per=1000&page=3")).contains("\"matching\" : 10000")
                        .contains("\"page\" : 3").contains("\"pages\" : 10");
                timing.append(" load average ").append(java.nio.file.Files.readString(
                        java.nio.file.Path.of("/proc/loadavg")).strip()).append('\n');
                java.nio.file.Files.writeString(java.nio.file.Path.of("target", "status-page-10000-postgres.txt"),
                        timing);
                System.err.print(timing);
            }
        }
    }

    private static String get(java.net.http.HttpClient http, String uri) throws Exception {
        java.net.http.HttpResponse<String> r = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(uri))
                .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("GET %s", uri).isEqualTo(200);
        return r.body();
    }

    @Test
    void twoServersOnOneDatabase_areOneStore_aRetryToTheOtherIsADuplicate() throws Exception {
        ReportLimits limits = ReportLimits.defaults();
        Instant t0 = Instant.parse("2026-12-02T00:00:00Z");
        try (JdbcReportStore a = pg.store(limits, Clock.systemUTC());
                JdbcReportStore b = pg.store(limits, Clock.systemUTC())) {
            byte[] r1 = report("i-1", "ec2", "run-a", 1, t0, RunState.RUNNING, List.of("c.sh"), 0);
            assertThat(a.accept(r1, "10.0.0.1")).isEqualTo(ReportStore.Accepted.STORED);
            assertThat(b.accept(r1, "10.0.0.1")).isEqualTo(ReportStore.Accepted.DUPLICATE);
            assertThat(b.accept(report("i-1", "ec2", "run-a", 2, t0, RunState.DONE, List.of("c.sh"), 0), "10.0.0.1"))
                    .isEqualTo(ReportStore.Accepted.STORED);
            assertThat(a.accept(report("i-1", "ec2", "run-a", 2, t0, RunState.DONE, List.of("c.sh"), 0), "10.0.0.1"))
                    .isEqualTo(ReportStore.Accepted.DUPLICATE);
            assertThat(a.page(ReportQuery.all()).reports()).singleElement()
                    .satisfies(r -> assertThat(r.status().state()).isEqualTo(RunState.DONE));
            assertThat(a.page(ReportQuery.all()).kept().get(0)).isEqualTo(b.page(ReportQuery.all()).kept().get(0));
        }
        // and after both servers are gone, a new one finds it
        try (JdbcReportStore c = pg.store(limits, Clock.systemUTC())) {
            assertThat(c.page(ReportQuery.all()).matching()).isEqualTo(1);
        }
    }

    /** Eight writers, two per server pair: every instance is sent twice, once to each server, by different threads. */
    private static Map<ReportStore.Accepted, Integer> twinWriters(JdbcReportStore a, JdbcReportStore b, Instant t0)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        ConcurrentHashMap<ReportStore.Accepted, Integer> seen = new ConcurrentHashMap<>();
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 60; i++) {
                        String id = "i-" + ((thread / 2) * 60 + i);
                        byte[] body = report(id, "ec2", "run-1", 1, t0, RunState.DONE, List.of("c.sh"), 0);
                        seen.merge((thread % 2 == 0 ? a : b).accept(body, "127.0.0.1"), 1, Integer::sum);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        return seen;
    }

    @Test
    void aReportSentToTwoServersAtOnce_isStoredOnce() throws Exception {
        ReportLimits roomy = new ReportLimits(1000, 4096, 1 << 22);
        Instant t0 = Instant.parse("2026-12-02T00:00:00Z");
        try (JdbcReportStore a = pg.store(roomy, Clock.systemUTC());
                JdbcReportStore b = pg.store(roomy, Clock.systemUTC())) {
            assertThat(twinWriters(a, b, t0)).containsOnly(Map.entry(ReportStore.Accepted.STORED, 240),
                    Map.entry(ReportStore.Accepted.DUPLICATE, 240));
            assertThat(a.page(ReportQuery.all()).matching()).isEqualTo(240);
        }
    }

    @Test
    void theLimitsHoldAcrossServers_underConcurrentWriters() throws Exception {
        ReportLimits limits = new ReportLimits(50, 4096, 1 << 20);
        Instant t0 = Instant.parse("2026-12-02T00:00:00Z");
        try (JdbcReportStore a = pg.store(limits, Clock.systemUTC());
                JdbcReportStore b = pg.store(limits, Clock.systemUTC())) {
            Map<ReportStore.Accepted, Integer> seen = twinWriters(a, b, t0);
            // a twin that arrives after its first copy was forgotten (50 newer instances came between: the threads'
            // pace decides how often) is stored again; every report is one or the other
            assertThat(seen.keySet()).containsOnly(ReportStore.Accepted.STORED, ReportStore.Accepted.DUPLICATE);
            assertThat(seen.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(480);
            assertThat(seen.get(ReportStore.Accepted.STORED)).isBetween(240, 480);
            ReportPage page = a.page(ReportQuery.all());
            assertThat(page.matching()).isEqualTo(50);
            assertThat(page.counts().instances()).isEqualTo(50);
            try (java.sql.Connection c = java.sql.DriverManager.getConnection(pg.jdbcUrl(), TestPostgres.USER,
                    pg.password()); java.sql.Statement s = c.createStatement();
                    java.sql.ResultSet r = s.executeQuery("SELECT t.instances, t.bytes, (SELECT count(*) FROM "
                            + "whatami_reports), (SELECT sum(bytes) FROM whatami_reports) FROM whatami_totals t")) {
                r.next();
                assertThat(r.getLong(1)).isEqualTo(50).isEqualTo(r.getLong(3));
                assertThat(r.getLong(2)).isEqualTo(r.getLong(4));
            }
        }
    }

    /**
     * Group commit: reports that arrive while the writer is busy are kept together in one transaction, and each gets
     * its own verdict — new ones stored, a retry a duplicate, a wrong key 403 and an oversized report 413 without
     * failing the rest — while a second report of an instance in the queue waits for the next transaction, so it is
     * compared with the first.
     */
    @Test
    void reportsArrivingTogether_shareOneTransaction_andEachGetsItsOwnVerdict() throws Exception {
        Instant t0 = Instant.parse("2026-12-02T00:00:00Z");
        try (JdbcReportStore s = JdbcReportStore.builder(pg.jdbcUrl()).user(TestPostgres.USER).password(pg.password())
                .limits(new ReportLimits(1000, 2048, 1 << 22)).writers(1).build();
                java.sql.Connection hold = java.sql.DriverManager.getConnection(pg.jdbcUrl(), TestPostgres.USER,
                        pg.password())) {
            String key = "k".repeat(32);
            assertThat(s.accept(report("i-bound", "ec2", "run-a", 1, t0, RunState.DONE, List.of("c.sh"), 0), "x",
                    Optional.of(key))).isEqualTo(ReportStore.Accepted.STORED);
            assertThat(s.accept(report("i-old", "ec2", "run-a", 2, t0, RunState.DONE, List.of("c.sh"), 0), "x"))
                    .isEqualTo(ReportStore.Accepted.STORED);
            long before = s.batches();

            // hold the totals row: the writer's next transaction waits at its end while the others queue up
            hold.setAutoCommit(false);
            try (java.sql.Statement st = hold.createStatement()) {
                st.execute("SELECT * FROM whatami_totals FOR UPDATE");
            }
            ExecutorService senders = Executors.newFixedThreadPool(48);
            try {
                Map<String, Future<Object>> verdicts = new java.util.LinkedHashMap<>();
                verdicts.put("first", senders.submit(() -> verdict(s, report("i-first"), Optional.empty())));
                awaitCondition(() -> waitingForALock(hold) == 1);
                List<Map.Entry<String, byte[]>> queued = new ArrayList<>();
                for (int i = 0; i < 36; i++) {
                    queued.add(Map.entry("i-" + i, report("i-" + i)));
                }
                queued.add(Map.entry("bound, another key", report("i-bound", "ec2", "run-b", 1, t0.plusSeconds(60),
                        RunState.DONE, List.of("c.sh"), 0)));
                queued.add(Map.entry("retry", report("i-old", "ec2", "run-a", 1, t0, RunState.RUNNING,
                        List.of("c.sh"), 0)));
                queued.add(Map.entry("too big", report("i-big", "ec2", "run-a", 1, t0, RunState.DONE,
                        List.of("c.sh"), 3000)));
                queued.add(Map.entry("i-0, revision 2", report("i-0", "run-1", 2, t0, RunState.DONE, "c.sh")));
                for (Map.Entry<String, byte[]> q : queued) {
                    int waiting = s.waiting();
                    Optional<String> k = q.getKey().startsWith("bound") ? Optional.of("m".repeat(32)) : Optional.empty();
                    verdicts.put(q.getKey(), senders.submit(() -> verdict(s, q.getValue(), k)));
                    awaitCondition(() -> s.waiting() == waiting + 1); // queued in this order
                }
                hold.rollback();

                Map<String, Object> got = new java.util.LinkedHashMap<>();
                for (Map.Entry<String, Future<Object>> v : verdicts.entrySet()) {
                    got.put(v.getKey(), v.getValue().get());
                }
                assertThat(got.get("first")).isEqualTo(ReportStore.Accepted.STORED);
                for (int i = 0; i < 36; i++) {
                    assertThat(got.get("i-" + i)).as("i-" + i).isEqualTo(ReportStore.Accepted.STORED);
                }
                assertThat(got.get("bound, another key")).isEqualTo(403);
                assertThat(got.get("retry")).isEqualTo(ReportStore.Accepted.DUPLICATE);
                assertThat(got.get("too big")).isEqualTo(413);
                assertThat(got.get("i-0, revision 2")).isEqualTo(ReportStore.Accepted.STORED);
                // the first alone; the 39 other instances together; i-0's second report after its first
                assertThat(s.batches() - before).isEqualTo(3);
            } finally {
                senders.shutdownNow();
            }
            ReportPage page = s.page(ReportQuery.all());
            assertThat(page.matching()).isEqualTo(2 + 1 + 36);
            assertThat(page.reports()).filteredOn(r -> r.status().instance().orElseThrow().instanceId().equals("i-0"))
                    .singleElement().satisfies(r -> assertThat(r.status().revision()).isEqualTo(2));
            assertThat(page.reports()).filteredOn(r -> r.status().instance().orElseThrow().instanceId()
                    .equals("i-bound")).singleElement().satisfies(r -> assertThat(r.status().runId()).hasValue("run-a"));
            assertTotals(hold, 39);
            hold.commit();
        }
    }

    /**
     * The limits hold for reports kept together: a batch of new instances larger than what may be kept forgets the
     * batch's own older reports too, as reports kept one after the other would (the newest always get in, and the
     * store never grows past its limits).
     */
    @Test
    void aBatchOfMoreNewInstancesThanMayBeKept_keepsOnlyTheNewest() throws Exception {
        try (JdbcReportStore s = JdbcReportStore.builder(pg.jdbcUrl()).user(TestPostgres.USER).password(pg.password())
                .limits(new ReportLimits(2, 4096, 1 << 20)).writers(1).build();
                java.sql.Connection hold = java.sql.DriverManager.getConnection(pg.jdbcUrl(), TestPostgres.USER,
                        pg.password())) {
            hold.setAutoCommit(false);
            try (java.sql.Statement st = hold.createStatement()) {
                st.execute("SELECT * FROM whatami_totals FOR UPDATE");
            }
            ExecutorService senders = Executors.newFixedThreadPool(5);
            try {
                List<Future<Object>> verdicts = new ArrayList<>();
                verdicts.add(senders.submit(() -> verdict(s, report("i-first"), Optional.empty())));
                awaitCondition(() -> waitingForALock(hold) == 1);
                for (int i = 0; i < 4; i++) {
                    int waiting = s.waiting();
                    String id = "i-" + i;
                    verdicts.add(senders.submit(() -> verdict(s, report(id), Optional.empty())));
                    awaitCondition(() -> s.waiting() == waiting + 1);
                }
                hold.rollback();
                for (Future<Object> v : verdicts) {
                    assertThat(v.get()).isEqualTo(ReportStore.Accepted.STORED);
                }
            } finally {
                senders.shutdownNow();
            }
            ReportPage page = s.page(ReportQuery.all());
            assertThat(page.reports()).extracting(r -> r.status().instance().orElseThrow().instanceId())
                    .containsExactlyInAnyOrder("i-2", "i-3");
            assertTotals(hold, 2);
            hold.commit();
        }
    }

    /**
     * Two servers creating the same new instances take their row locks in one order: this store's batch (queued
     * i-n, then i-m) does not deadlock with another server's transaction that inserts them in instance order (i-m,
     * then i-n) — as the same code on that server, given them the other way round, would.
     */
    @Test
    void newInstancesOfABatch_areInsertedInOneOrder_soTwoServersNeverDeadlock() throws Exception {
        try (JdbcReportStore s = JdbcReportStore.builder(pg.jdbcUrl()).user(TestPostgres.USER).password(pg.password())
                .limits(new ReportLimits(1000, 4096, 1 << 22)).writers(1).build();
                java.sql.Connection hold = java.sql.DriverManager.getConnection(pg.jdbcUrl(), TestPostgres.USER,
                        pg.password());
                java.sql.Connection other = java.sql.DriverManager.getConnection(pg.jdbcUrl(), TestPostgres.USER,
                        pg.password())) {
            hold.setAutoCommit(false);
            try (java.sql.Statement st = hold.createStatement()) {
                st.execute("SELECT * FROM whatami_totals FOR UPDATE");
            }
            ExecutorService senders = Executors.newFixedThreadPool(3);
            try {
                Future<Object> first = senders.submit(() -> verdict(s, report("i-first"), Optional.empty()));
                awaitCondition(() -> waitingForALock(hold) == 1);
                List<Future<Object>> verdicts = new ArrayList<>();
                for (String id : List.of("i-n", "i-m")) {
                    int waiting = s.waiting();
                    verdicts.add(senders.submit(() -> verdict(s, report(id), Optional.empty())));
                    awaitCondition(() -> s.waiting() == waiting + 1);
                }
                // the other server's writer: creates i-m, and (below) i-n, in one transaction
                other.setAutoCommit(false);
                try (java.sql.Statement st = other.createStatement()) {
                    st.execute("SET LOCAL deadlock_timeout = '20ms'"); // so the cycle, if any, is found on this side
                    st.execute(insertRaw("i-m"));
                }
                hold.rollback();
                assertThat(first.get()).isEqualTo(ReportStore.Accepted.STORED);
                awaitCondition(() -> waitingForALock(other) == 1); // this store's batch waits for the other's i-m
                try (java.sql.Statement st = other.createStatement()) {
                    st.execute(insertRaw("i-n"));
                } catch (java.sql.SQLException e) {
                    assertThat(e.getSQLState()).as("deadlock between the two servers' batches: " + e.getMessage())
                            .isNotEqualTo("40P01");
                    throw e;
                } finally {
                    other.rollback(); // the other server's transaction fails: this store's inserts go ahead
                }
                for (Future<Object> v : verdicts) {
                    assertThat(v.get()).isEqualTo(ReportStore.Accepted.STORED);
                }
            } finally {
                senders.shutdownNow();
            }
            assertThat(s.page(ReportQuery.all()).matching()).isEqualTo(3);
        }
    }

    /**
     * While the database is down, a report is refused within about twice the connection timeout (a connection
     * awaited, and once more) however many wait with it: the reports waiting when a batch finds the database gone fail
     * with it, not each batch of them in turn (300 agents at once would otherwise wait 3 rounds of 2 writers × 64).
     */
    @Test
    void whileTheDatabaseIsDown_manyWaitingReports_areAllRefusedWithinTwiceTheConnectionTimeout() throws Exception {
        try (JdbcReportStore s = pg.store(ReportLimits.databaseDefaults(), Clock.systemUTC())) {
            assertThat(s.accept(report("i-warm"), "x")).isEqualTo(ReportStore.Accepted.STORED);
            pg.stop();
            ExecutorService senders = Executors.newFixedThreadPool(300);
            try {
                List<Future<Long>> took = new ArrayList<>();
                for (int i = 0; i < 300; i++) {
                    String id = "i-" + i;
                    took.add(senders.submit(() -> {
                        long began = System.nanoTime();
                        assertThatThrownBy(() -> s.accept(report(id), "x")).isInstanceOf(IOException.class);
                        return (System.nanoTime() - began) / 1_000_000;
                    }));
                }
                long longest = 0;
                for (Future<Long> t : took) {
                    longest = Math.max(longest, t.get());
                }
                // the default connection timeout is 2 s: 4 s for one batch, with room for a loaded machine
                assertThat(longest).as("longest wait for a 503, ms").isLessThan(8000);
            } finally {
                senders.shutdownNow();
                pg.start();
            }
        }
    }

    private static String insertRaw(String id) {
        return "INSERT INTO whatami_reports (instance_id, revision, received_at, provider, role, state, rank, kept_seq, "
                + "bytes, body) VALUES ('" + id + "', 1, now(), 'ec2', '', 'done', 3, "
                + "nextval('whatami_reports_kept_seq'), 1, '\\x00')";
    }

    /** Closing keeps what already waits (no caller is left waiting), and refuses what comes after. */
    @Test
    void closing_keepsTheReportsThatWait_andRefusesLaterOnes() throws Exception {
        JdbcReportStore s = JdbcReportStore.builder(pg.jdbcUrl()).user(TestPostgres.USER).password(pg.password())
                .limits(new ReportLimits(1000, 4096, 1 << 22)).writers(1).build();
        ExecutorService senders = Executors.newFixedThreadPool(12);
        try (java.sql.Connection hold = java.sql.DriverManager.getConnection(pg.jdbcUrl(), TestPostgres.USER,
                pg.password())) {
            hold.setAutoCommit(false);
            try (java.sql.Statement st = hold.createStatement()) {
                st.execute("SELECT * FROM whatami_totals FOR UPDATE");
            }
            List<Future<Object>> verdicts = new ArrayList<>();
            verdicts.add(senders.submit(() -> verdict(s, report("i-first"), Optional.empty())));
            awaitCondition(() -> waitingForALock(hold) == 1);
            for (int i = 0; i < 10; i++) {
                byte[] body = report("i-" + i);
                verdicts.add(senders.submit(() -> verdict(s, body, Optional.empty())));
            }
            awaitCondition(() -> s.waiting() == 10);
            Future<?> closing = senders.submit(() -> {
                s.close();
                return null;
            });
            // once closing has begun (not before: a report given while the store is open waits behind the held
            // lock like the others), a report is refused at once
            awaitCondition(s::closing);
            assertThatThrownBy(() -> s.accept(report("i-late"), "x")).isInstanceOf(IOException.class)
                    .hasMessage("the report store is closed");
            hold.rollback();
            closing.get();
            for (Future<Object> v : verdicts) {
                assertThat(v.get()).isEqualTo(ReportStore.Accepted.STORED);
            }
        } finally {
            senders.shutdownNow();
        }
        try (JdbcReportStore again = pg.store(new ReportLimits(1000, 4096, 1 << 22), Clock.systemUTC())) {
            assertThat(again.page(ReportQuery.all()).matching()).isEqualTo(11);
        }
    }

    /** The totals row says what the table holds: {@code instances} instances, and their bytes. */
    private static void assertTotals(java.sql.Connection c, long instances) throws java.sql.SQLException {
        try (java.sql.Statement st = c.createStatement(); java.sql.ResultSet r = st.executeQuery(
                "SELECT t.instances, t.bytes, (SELECT count(*) FROM whatami_reports), "
                        + "(SELECT coalesce(sum(bytes), 0) FROM whatami_reports) FROM whatami_totals t")) {
            r.next();
            assertThat(r.getLong(1)).isEqualTo(instances).isEqualTo(r.getLong(3));
            assertThat(r.getLong(2)).isEqualTo(r.getLong(4));
        }
    }

    /** The verdict, or the refusal's HTTP status. */
    private static Object verdict(ReportStore s, byte[] body, Optional<String> key) throws IOException {
        try {
            return s.accept(body, "x", key);
        } catch (ReportStore.InvalidReportException e) {
            return e.status();
        }
    }

    /** Sessions other than {@code c}'s waiting for a lock. */
    private static int waitingForALock(java.sql.Connection c) {
        try (java.sql.Statement st = c.createStatement(); java.sql.ResultSet r = st.executeQuery(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()")) {
            r.next();
            return r.getInt(1);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Waits for another thread to reach a state (bounded: a test that never gets there fails, not hangs). */
    private static void awaitCondition(java.util.function.BooleanSupplier reached) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!reached.getAsBoolean()) {
            assertThat(System.nanoTime()).as("reached within 30 s").isLessThan(deadline);
            java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(2).toNanos());
        }
    }

    @Test
    void theLockQuery_isPlannedForTheTableAsItIs_neverByAPlanCachedWhileItWasSmall() throws Exception {
        Instant t0 = Instant.parse("2026-12-02T00:00:00Z");
        // one connection, so the statements the writer prepared are the session this test looks at
        try (JdbcReportStore s = JdbcReportStore.builder(pg.jdbcUrl()).user(TestPostgres.USER).password(pg.password())
                .limits(new ReportLimits(1000, 2048, 1 << 22)).poolSize(1).writers(1).build()) {
            for (int i = 0; i < 30; i++) { // one after another: 30 transactions of one report on a small table
                assertThat(s.accept(report("i-" + i, "ec2", "run-a", 1, t0, RunState.DONE, List.of("c.sh"), 0), "x"))
                        .isEqualTo(ReportStore.Accepted.STORED);
            }
            try (java.sql.Connection c = s.connection(); java.sql.Statement st = c.createStatement();
                    java.sql.ResultSet r = st.executeQuery("SELECT statement FROM pg_prepared_statements")) {
                List<String> prepared = new java.util.ArrayList<>();
                while (r.next()) {
                    prepared.add(r.getString(1));
                }
                // the one-row statements are prepared (pgjdbc does so from a statement's fifth use) ...
                assertThat(prepared).anyMatch(q -> q.startsWith("INSERT INTO whatami_reports"));
                // ... the lock query is not, so PostgreSQL never keeps a plan made for a table of 30 rows (a scan of
                // all of it) for when the fleet is 100,000
                assertThat(prepared).noneMatch(q -> q.contains("FOR UPDATE"));
            }
        }
    }

    @Test
    void aRunThatEnded_neverGoesBackToRunning_alsoWithoutARunId() throws Exception {
        try (JdbcReportStore s = pg.store(new ReportLimits(10, 4096, 1 << 20), Clock.systemUTC())) {
            ReportStoreTest.aRunThatEnded_neverGoesBackToRunning_alsoWithoutARunId(s);
        }
    }

    @Test
    void aReportLargerThanThePerInstanceCap_is413_andChangesNothing() throws Exception {
        try (JdbcReportStore s = pg.store(new ReportLimits(10, 2048, 1 << 20), Clock.systemUTC())) {
            byte[] big = report("i-1", "ec2", "r", 1, Instant.EPOCH, RunState.DONE, List.of("c.sh"), 3000);
            assertThatThrownBy(() -> s.accept(big, "x")).isInstanceOfSatisfying(ReportStore.InvalidReportException.class,
                    e -> {
                        assertThat(e.status()).isEqualTo(413);
                        assertThat(e.getMessage()).startsWith("the report is ").endsWith("bytes as kept; this server "
                                + "keeps at most 2048 bytes per instance (--max-report-bytes)");
                    });
            assertThatThrownBy(() -> s.accept("{\"state\":\"done\"}".getBytes(), "x"))
                    .isInstanceOf(ReportStore.InvalidReportException.class).hasMessageContaining("instanceId");
            assertThat(s.page(ReportQuery.all()).matching()).isZero();
        }
    }

    @Test
    void aSchemaNewerThanTheServer_isRefused_withWhatToDo() throws Exception {
        try (JdbcReportStore s = pg.store(ReportLimits.defaults(), Clock.systemUTC())) {
            assertThat(s.page(ReportQuery.all()).matching()).isZero();
        }
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(pg.jdbcUrl(), TestPostgres.USER,
                pg.password()); java.sql.Statement st = c.createStatement()) {
            st.execute("INSERT INTO whatami_schema (version, description) VALUES (3, 'from the future')");
        }
        assertThatThrownBy(() -> pg.store(ReportLimits.defaults(), Clock.systemUTC())).isInstanceOf(IOException.class)
                .hasMessage("cannot use the database " + pg.jdbcUrl() + ": the database's report schema is version 3; "
                        + "this whatami-server knows versions up to 2: run a newer whatami-server against it");
    }

    @Test
    void theSchemaIsAppliedOnce_whenServersStartTogether() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<JdbcReportStore>> stores = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            stores.add(pool.submit(() -> pg.store(ReportLimits.defaults(), Clock.systemUTC())));
        }
        for (Future<JdbcReportStore> f : stores) {
            f.get().close();
        }
        pool.shutdown();
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(pg.jdbcUrl(), TestPostgres.USER,
                pg.password()); java.sql.Statement st = c.createStatement();
                java.sql.ResultSet r = st.executeQuery("SELECT version FROM whatami_schema")) {
            List<Integer> versions = new ArrayList<>();
            while (r.next()) {
                versions.add(r.getInt(1));
            }
            assertThat(versions).containsExactly(1, 2);
        }
    }

    @Test
    void credentialsInTheUrl_areRefused_sayingWhereTheyGo() {
        for (String url : Arrays.asList("jdbc:postgresql://db/whatami?user=w&password=hunter2",
                "jdbc:postgresql://db/whatami?sslmode=require&PASSWORD=hunter2", "jdbc:postgresql://w:hunter2@db/x")) {
            assertThatThrownBy(() -> JdbcReportStore.builder(url)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("--database must not carry credentials")
                    .hasMessageContaining("$WHATAMI_DATABASE_PASSWORD").hasMessageNotContaining("hunter2");
        }
        assertThatThrownBy(() -> JdbcReportStore.builder("postgresql://db/x"))
                .hasMessage("--database takes a PostgreSQL JDBC URL, jdbc:postgresql://host:5432/database; got one "
                        + "that does not start with jdbc:postgresql://");
    }
}
