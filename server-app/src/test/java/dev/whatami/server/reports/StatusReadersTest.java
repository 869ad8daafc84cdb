package dev.whatami.server.reports;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * As reported: with PostgreSQL, a dozen unauthenticated slow readers of {@code /status.json?per=1000} each had the
 * page's report bodies copied into the heap and killed a 256 MiB server. Here a real server process with half that
 * heap keeps 50 MB of reports in PostgreSQL and a dozen readers who never read their answer: the pages stream a few
 * reports at a time, readers past the cap are told to come back, and reports, health and the status keep answering.
 */
class StatusReadersTest {
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

    @Test
    void aDozenSlowReadersOf50MBOfReports_doNotExhaustA128MBHeap() throws Exception {
        pg.truncate();
        int instances = 250;
        try (JdbcReportStore store = pg.store(ReportLimits.defaults(), Clock.systemUTC())) {
            for (int i = 0; i < instances; i++) {
                store.accept(TestReports.big("i-big-" + i, 200), "127.0.0.1");
            }
        }
        Path root = Files.createDirectories(dir.resolve("www"));
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-XX:+ExitOnOutOfMemoryError", "-cp", System.getProperty("java.class.path"),
                "dev.whatami.server.WhatamiServer", "--root", root.toString(), "--bind", "127.0.0.1", "--port", "0",
                "--database", pg.jdbcUrl()).redirectErrorStream(true).redirectOutput(dir.resolve("server.log").toFile());
        pb.environment().putAll(Map.of("WHATAMI_DATABASE_USER", TestPostgres.USER, "WHATAMI_DATABASE_PASSWORD",
                pg.password()));
        Process p = pb.start();
        List<Socket> readers = new ArrayList<>();
        try {
            String line = "";
            for (int i = 0; i < 600 && !line.contains("listening on"); i++) {
                Thread.sleep(50);
                line = Files.readString(dir.resolve("server.log"));
            }
            assertThat(line).contains("listening on http://127.0.0.1:");
            URI base = URI.create(line.replaceAll("(?s).*listening on (http://127\\.0\\.0\\.1:(\\d+)).*", "$1"));
            List<String> statusLines = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                Socket s = new Socket();
                s.setReceiveBufferSize(4096);
                s.connect(new InetSocketAddress("127.0.0.1", base.getPort()), 10_000);
                s.setSoTimeout(30_000);
                readers.add(s);
                OutputStream out = s.getOutputStream();
                out.write("GET /status.json?per=1000 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                statusLines.add(firstLine(s.getInputStream())); // and then read nothing more
            }
            long ok = statusLines.stream().filter(l -> l.startsWith("HTTP/1.1 200")).count();
            assertThat(ok).as(statusLines.toString()).isEqualTo(ReportHandlers.MAX_STATUS_READERS);
            assertThat(statusLines).filteredOn(l -> l.startsWith("HTTP/1.1 503")).hasSize(12 - (int) ok);

            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            assertThat(http.send(HttpRequest.newBuilder(base.resolve("/healthz")).timeout(Duration.ofSeconds(10))
                    .build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            assertThat(http.send(HttpRequest.newBuilder(base.resolve("/reports")).timeout(Duration.ofSeconds(10))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(TestReports.report("i-small"))).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(204);
            HttpResponse<String> busy = http.send(HttpRequest.newBuilder(base.resolve("/status")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(busy.statusCode()).isEqualTo(503);
            assertThat(busy.headers().firstValue("Retry-After")).hasValue("2");
            assertThat(busy.body()).contains("try again in a moment");
            assertThat(p.isAlive()).as(Files.readString(dir.resolve("server.log"))).isTrue();

            for (Socket s : readers) {
                s.close();
            }
            // the permits come back as the server notices the readers left; then the whole page, every report
            HttpResponse<String> all = null;
            for (int i = 0; i < 200; i++) {
                all = http.send(HttpRequest.newBuilder(base.resolve("/status.json?per=1000")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (all.statusCode() != 503) {
                    break;
                }
                Thread.sleep(50);
            }
            assertThat(all.statusCode()).isEqualTo(200);
            Map<String, Object> doc = JSON.std.mapFrom(all.body());
            assertThat((List<?>) doc.get("instances")).hasSize(instances + 1);
            assertThat(doc.get("matching")).isEqualTo(instances + 1);
            assertThat(p.isAlive()).as(Files.readString(dir.resolve("server.log"))).isTrue();
        } finally {
            for (Socket s : readers) {
                s.close();
            }
            p.destroyForcibly();
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    private static String firstLine(InputStream in) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int c = in.read(); c >= 0 && c != '\n'; c = in.read()) {
            b.append((char) c);
        }
        return b.toString().strip();
    }
}
