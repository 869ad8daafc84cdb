package dev.whatami.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.server.reports.ReportStore;
import dev.whatami.server.reports.TestReports;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * As reported: about 220 clients sending report bodies at 1.2 KB/s (above the minimum data rate) took every pool
 * thread, and reports, /status, /healthz and uploads stopped answering. Bodies are now read as they arrive, holding no
 * thread: 300 such clients on real loopback sockets leave the server answering everything else at once.
 */
class SlowBodiesTest {
    private static final int CLIENTS = 300;
    @TempDir
    Path dir;
    private ScriptServer server;
    private final List<Socket> sockets = new ArrayList<>();
    private final AtomicBoolean sending = new AtomicBoolean(true);
    private Thread dripper;

    @AfterEach
    void stop() throws Exception {
        sending.set(false);
        if (dripper != null) {
            dripper.interrupt();
            dripper.join(10_000);
        }
        for (Socket s : sockets) {
            s.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void threeHundredSlowReportBodies_holdNoThread_andEverythingElseStillAnswers() throws Exception {
        Path root = Files.createDirectories(dir.resolve("www"));
        Files.writeString(root.resolve("a.sh"), "echo a\n");
        server = ScriptServer.builder(root).bind("127.0.0.1").port(0).reports(ReportStore.inMemory())
                .uploadToken("upload-token-1").build().start();
        URI base = server.uri();
        byte[] head = ("POST /reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200000"
                + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] piece = new byte[1500];
        Arrays.fill(piece, (byte) ' '); // JSON whitespace: a body that is still arriving
        for (int i = 0; i < CLIENTS; i++) {
            Socket s = new Socket("127.0.0.1", base.getPort());
            sockets.add(s);
            s.getOutputStream().write(head);
            s.getOutputStream().write(piece);
        }
        // each client sends another 1.5 KB a second: faster than the server's minimum request data rate
        dripper = new Thread(() -> {
            while (sending.get()) {
                for (Socket s : sockets) {
                    try {
                        s.getOutputStream().write(piece);
                    } catch (java.io.IOException e) {
                        // that one was closed; the others go on
                    }
                }
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "slow-bodies");
        dripper.start();

        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        Duration patience = Duration.ofSeconds(5);
        assertThat(http.send(HttpRequest.newBuilder(base.resolve("/healthz")).timeout(patience).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        assertThat(http.send(HttpRequest.newBuilder(base.resolve("/reports")).timeout(patience)
                .POST(HttpRequest.BodyPublishers.ofByteArray(TestReports.report("i-fast"))).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(204);
        assertThat(http.send(HttpRequest.newBuilder(base.resolve("/status.json")).timeout(patience).build(),
                HttpResponse.BodyHandlers.ofString()).body()).contains("i-fast");
        assertThat(http.send(HttpRequest.newBuilder(base.resolve("/scriptserver/u.sh")).timeout(patience)
                .header("Authorization", "Bearer upload-token-1").PUT(HttpRequest.BodyPublishers.ofString("echo u\n"))
                .build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(201);
        assertThat(http.send(HttpRequest.newBuilder(base.resolve("/scriptserver/a.sh")).timeout(patience).build(),
                HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("echo a\n");

        // a slow body that does end is kept, its answer sent when its last byte came
        byte[] report = TestReports.report("i-slow");
        try (Socket s = new Socket("127.0.0.1", base.getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /reports HTTP/1.1\r\nHost: x\r\nContent-Length: " + report.length + "\r\nConnection: close"
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            int half = report.length / 2;
            out.write(report, 0, half);
            out.flush();
            Thread.sleep(300);
            out.write(report, half, report.length - half);
            out.flush();
            InputStream in = s.getInputStream();
            assertThat(new String(in.readAllBytes(), StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 204");
        }
        assertThat(http.send(HttpRequest.newBuilder(base.resolve("/status.json")).timeout(patience).build(),
                HttpResponse.BodyHandlers.ofString()).body()).contains("i-slow");
    }
}
