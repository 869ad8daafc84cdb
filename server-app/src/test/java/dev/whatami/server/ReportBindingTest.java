package dev.whatami.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.status.RunState;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * As reported: anyone with the fleet's report token rewrote any instance's report (a failed instance shown done).
 * Reports are now bound to the instance key the instance first reported with; another key, or none, is refused,
 * whatever the store, and the binding outlives a restart.
 */
class ReportBindingTest {
    private static final String KEY = "k3y-of-instance-one-0123456789abcdef";
    private static final String OTHER = "a-neighbours-key-fedcba9876543210";
    private static final Instant START = Instant.parse("2026-12-02T00:00:00Z");
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

    private static byte[] failed(String id, long revision) {
        return ReportStoreTest.report(id, "run-1", revision, START, RunState.FAILED, "p.sh");
    }

    private static byte[] done(String id, long revision) {
        return ReportStoreTest.report(id, "run-1", revision, START, RunState.DONE, "p.sh");
    }

    private static String state(ReportStore store, String id) {
        return store.all().stream().filter(m -> id.equals(m.get("instanceId"))).map(m -> String.valueOf(m.get("state")))
                .findFirst().orElse("none");
    }

    private void bindingHolds(ReportStore store) throws Exception {
        assertThat(store.accept(failed("i-1", 1), "10.0.0.1", Optional.of(KEY))).isEqualTo(ReportStore.Accepted.STORED);
        for (Optional<String> forged : java.util.List.of(Optional.<String>empty(), Optional.of(OTHER))) {
            assertThatThrownBy(() -> store.accept(done("i-1", 2), "10.0.0.9", forged))
                    .isInstanceOfSatisfying(ReportStore.InvalidReportException.class, e -> {
                        assertThat(e.status()).isEqualTo(403);
                        assertThat(e.getMessage()).contains("bound to the instance key it first reported with")
                                .doesNotContain(KEY).doesNotContain(OTHER);
                    });
        }
        assertThat(state(store, "i-1")).isEqualTo("failed");
        assertThat(store.accept(done("i-1", 2), "10.0.0.1", Optional.of(KEY))).isEqualTo(ReportStore.Accepted.STORED);
        assertThat(state(store, "i-1")).isEqualTo("done");

        // an agent that sends no key is not bound, until it first sends one
        assertThat(store.accept(failed("i-2", 1), "10.0.0.2")).isEqualTo(ReportStore.Accepted.STORED);
        assertThat(store.accept(failed("i-2", 2), "10.0.0.2")).isEqualTo(ReportStore.Accepted.STORED);
        assertThat(store.accept(failed("i-2", 3), "10.0.0.2", Optional.of(OTHER))).isEqualTo(ReportStore.Accepted.STORED);
        assertThatThrownBy(() -> store.accept(done("i-2", 4), "10.0.0.2"))
                .isInstanceOf(ReportStore.InvalidReportException.class);
    }

    @Test
    void inMemory() throws Exception {
        bindingHolds(ReportStore.inMemory());
    }

    @Test
    void inFiles_andTheBindingOutlivesARestart_asAHashNotTheKey() throws Exception {
        try (ReportStore store = ReportStore.embedded().dataDir(dir).build()) {
            bindingHolds(store);
        }
        Path keyFile = dir.resolve("reports").resolve(EmbeddedReportStore.keyFileName("i-1"));
        assertThat(Files.readString(keyFile)).doesNotContain(KEY).hasSize(64);
        try (ReportStore again = ReportStore.embedded().dataDir(dir).build()) {
            assertThatThrownBy(() -> again.accept(failed("i-1", 3), "10.0.0.9", Optional.of(OTHER)))
                    .isInstanceOf(ReportStore.InvalidReportException.class);
            assertThat(again.accept(failed("i-1", 3), "10.0.0.1", Optional.of(KEY)))
                    .isEqualTo(ReportStore.Accepted.STORED);
        }
        // a damaged binding refuses the instance's reports rather than unbinding it
        Files.writeString(keyFile, "not hex");
        try (ReportStore damaged = ReportStore.embedded().dataDir(dir).build()) {
            assertThatThrownBy(() -> damaged.accept(failed("i-1", 4), "10.0.0.9", Optional.empty()))
                    .isInstanceOf(ReportStore.InvalidReportException.class);
        }
    }

    @Test
    void inPostgres_acrossServers() throws Exception {
        pg.truncate();
        try (JdbcReportStore a = pg.store(ReportLimits.defaults(), Clock.systemUTC())) {
            bindingHolds(a);
        }
        try (JdbcReportStore b = pg.store(ReportLimits.defaults(), Clock.systemUTC())) {
            assertThatThrownBy(() -> b.accept(failed("i-1", 5), "10.0.0.9", Optional.of(OTHER)))
                    .isInstanceOf(ReportStore.InvalidReportException.class);
            assertThat(b.accept(failed("i-1", 5), "10.0.0.1", Optional.of(KEY))).isEqualTo(ReportStore.Accepted.STORED);
        }
    }

    @Test
    void overHttp_theKeyHeaderBinds_andABadOneIsRefusedWithoutEchoingIt() throws Exception {
        Path root = Files.createDirectories(dir.resolve("www"));
        try (ScriptServer server = ScriptServer.builder(root).bind("127.0.0.1").port(0).reports(ReportStore.inMemory())
                .build().start()) {
            HttpClient http = HttpClient.newHttpClient();
            URI reports = server.uri().resolve("/reports");
            java.util.function.BiFunction<byte[], String, HttpResponse<String>> post = (body, key) -> {
                HttpRequest.Builder b = HttpRequest.newBuilder(reports).POST(HttpRequest.BodyPublishers.ofByteArray(body));
                if (key != null) {
                    b.header(Reports.KEY_HEADER, key);
                }
                try {
                    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            };
            assertThat(post.apply(failed("i-h", 1), KEY).statusCode()).isEqualTo(204);
            HttpResponse<String> forged = post.apply(done("i-h", 2), OTHER);
            assertThat(forged.statusCode()).isEqualTo(403);
            assertThat(forged.body()).contains("bound to the instance key").doesNotContain(OTHER).doesNotContain(KEY);
            HttpResponse<String> bad = post.apply(done("i-h", 2), "short");
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(bad.body()).contains(Reports.KEY_HEADER + " header must be 16-256").doesNotContain("short");
            assertThat(post.apply(done("i-h", 2), KEY).statusCode()).isEqualTo(204);
            String status = http.send(HttpRequest.newBuilder(server.uri().resolve("/status.json")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(status).contains("\"state\" : \"done\"").doesNotContain(KEY);
        }
    }
}
