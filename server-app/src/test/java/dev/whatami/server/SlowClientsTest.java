package dev.whatami.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.server.reports.ReportStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Slowloris, with real slow sockets on loopback: a client dribbling its request headers is cut
 * off at the header deadline although it is never idle, and more such clients than {@code --max-connections} do
 * not keep a normal request out.
 */
class SlowClientsTest {
    @TempDir
    Path dir;
    private ScriptServer server;
    private final List<Socket> sockets = new ArrayList<>();
    private final AtomicBoolean attacking = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        attacking.set(false);
        for (Thread t : threads) {
            t.interrupt();
        }
        synchronized (sockets) {
            for (Socket s : sockets) {
                s.close();
            }
        }
        for (Thread t : threads) {
            t.join(10_000);
        }
        if (server != null) {
            server.close();
        }
    }

    private ScriptServer.Builder builder() throws IOException {
        return ScriptServer.builder(Files.createDirectories(dir.resolve("www"))).bind("127.0.0.1").port(0);
    }

    private Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", server.address().getPort());
        synchronized (sockets) {
            sockets.add(s);
        }
        return s;
    }

    @Test
    void oneHeaderByteEveryFewSeconds_isCutOffAtTheHeaderDeadline_with408() throws Exception {
        server = builder().headerTimeout(Duration.ofSeconds(2)).build().start();
        Socket s = connect();
        s.setSoTimeout(15_000);
        OutputStream out = s.getOutputStream();
        byte[] request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        AtomicInteger sent = new AtomicInteger();
        Thread dripper = new Thread(() -> {
            try {
                for (byte b : request) {
                    out.write(b);
                    out.flush();
                    sent.incrementAndGet();
                    Thread.sleep(700); // never idle for the 30 s idle timeout
                }
            } catch (IOException | InterruptedException e) {
                // closed by the server: what we want
            }
        });
        threads.add(dripper);
        long start = System.nanoTime();
        dripper.start();
        String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(answer).startsWith("HTTP/1.1 408 ").contains("the request headers did not arrive in time");
        assertThat(took).isBetween(Duration.ofMillis(1500), Duration.ofSeconds(6));
        assertThat(sent.get()).isLessThan(request.length);
    }

    @Test
    void aRequestBodyDribbledSlowerThanTheMinimumRate_isCutOff() throws Exception {
        server = builder().reports(ReportStore.inMemory()).build().start();
        Socket s = connect();
        s.setSoTimeout(15_000);
        OutputStream out = s.getOutputStream();
        out.write(("POST /reports HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: 1000\r\n\r\n{").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        Thread dripper = new Thread(() -> {
            try {
                for (int i = 0; i < 60; i++) {
                    Thread.sleep(250);
                    out.write(' ');
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // closed by the server
            }
        });
        threads.add(dripper);
        long start = System.nanoTime();
        dripper.start();
        try {
            s.getInputStream().readAllBytes(); // until the server closes the connection
        } catch (java.net.SocketException reset) {
            // closed with data unread: a reset, also the end
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(took).isBetween(Duration.ofSeconds(1), Duration.ofSeconds(8));
    }

    @Test
    void aKeptAliveConnection_idleBetweenRequests_isNotCutByTheHeaderDeadline() throws Exception {
        server = builder().headerTimeout(Duration.ofSeconds(1)).build().start();
        Socket s = connect();
        s.setSoTimeout(10_000);
        byte[] request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        s.getOutputStream().write(request);
        assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200 ");
        Thread.sleep(2500); // idle, past the header deadline: the idle timeout's business, not the deadline's
        s.getOutputStream().write(request);
        assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200 ");
    }

    @Test
    void moreSlowClientsThanMaxConnections_doNotKeepANormalRequestOut() throws Exception {
        int max = 20;
        // a deadline far away: only the full-server rule can make room
        server = builder().maxConnections(max).headerTimeout(Duration.ofSeconds(60)).busyGrace(Duration.ofSeconds(1))
                .build().start();
        AtomicInteger connects = new AtomicInteger();
        for (int i = 0; i < max + 50; i++) {
            Thread t = new Thread(() -> slowloris(connects), "slowloris-" + i);
            threads.add(t);
            t.start();
        }
        while (connects.get() < max + 50) {
            Thread.sleep(50);
        }
        Thread.sleep(1500); // the slots are full of dribblers, and the rest wait in the accept queue
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(20)).build();
        long start = System.nanoTime();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(server.uri() + "/healthz"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(took).isLessThan(Duration.ofSeconds(15));
        for (int i = 0; i < 200 && connects.get() <= max + 50; i++) {
            Thread.sleep(50); // a cut dribbler's thread reconnects when it is next scheduled
        }
        assertThat(connects.get()).as("the dribblers were cut and came back").isGreaterThan(max + 50);
    }

    /** Connects, starts a request, sends one more header byte every 5 s; reconnects whenever it is cut off. */
    private void slowloris(AtomicInteger connects) {
        while (attacking.get()) {
            try (Socket s = connect()) {
                connects.incrementAndGet();
                s.setSoTimeout(5000);
                OutputStream out = s.getOutputStream();
                out.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = s.getInputStream();
                while (attacking.get()) {
                    try {
                        if (in.read() < 0) {
                            break; // cut off
                        }
                    } catch (SocketTimeoutException e) {
                        out.write('X');
                        out.flush();
                    }
                }
            } catch (IOException e) {
                // cut off (reset); come back
            }
        }
    }

    private static String readResponse(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int contentLength = -1;
        while (!b.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                return b.toString();
            }
            b.append((char) c);
        }
        for (String line : b.toString().split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                contentLength = Integer.parseInt(line.substring(15).strip());
            }
        }
        b.append(new String(in.readNBytes(Math.max(0, contentLength)), StandardCharsets.US_ASCII));
        return b.toString();
    }
}
