package dev.whatami.fetch;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.sun.net.httpserver.HttpExchange;
import dev.whatami.metadata.RetryPolicy;
import dev.whatami.testsupport.FakeTime;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Servers that splice, compress unasked, never end, or dribble; and what a killed
 * download leaves behind. Each test fails on the fetcher before these fixes.
 */
class HostileServerTest {
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME;
    private static final RetryPolicy QUICK = RetryPolicy.builder().maxAttempts(3).baseDelay(Duration.ofMillis(10))
            .maxDelay(Duration.ofMillis(10)).jitter(false).build();

    @TempDir
    Path dir;
    private final FileServer server = new FileServer();
    private final FakeTime time = new FakeTime();

    @AfterEach
    void stop() {
        server.close();
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    // ---- finding 4: resume only what is provably the same file ---------------------------------------------------

    /**
     * A server like Jetty's default: weak ETags, so If-Range can only carry the Last-Modified date, and it answers a
     * Range request with 206 whenever that date matches. The file is replaced within the same second as the first,
     * cut-off download: a fetcher that trusts the date splices v1's first MiB onto v2's rest.
     */
    @Test
    void aScriptReplacedWithinTheSameSecond_isNeverSpliced() throws Exception {
        byte[] v1 = random(3 << 20, 1);
        byte[] v2 = random(3 << 20, 2);
        // a Last-Modified that is not at least a second before the response's Date is weak (RFC 9110 8.8.2.2): here
        // it is a few seconds ahead (a replaced file whose mtime is this second, on a server whose clock is slightly
        // off), whatever second the JDK's own Date header falls in
        String now = HTTP_DATE.format(ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(5));
        AtomicReference<byte[]> current = new AtomicReference<>(v1);
        List<String> ranges = new java.util.concurrent.CopyOnWriteArrayList<>();
        server.always("/s.sh", ex -> {
            byte[] body = current.get();
            String range = ex.getRequestHeaders().getFirst("Range");
            String ifRange = ex.getRequestHeaders().getFirst("If-Range");
            ex.getResponseHeaders().add("ETag", "W/\"" + Arrays.hashCode(body) + "\"");
            ex.getResponseHeaders().add("Last-Modified", now);
            if (range != null && now.equals(ifRange)) {
                ranges.add(range);
                int from = Integer.parseInt(range.substring(6, range.length() - 1));
                ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (body.length - 1) + "/"
                        + body.length);
                FileServer.respond(ex, 206, Arrays.copyOfRange(body, from, body.length), java.util.Map.of());
                return;
            }
            if (body == v1) {
                current.set(v2); // replaced right after this response started, within the same second
                cutAfter(ex, body, 1 << 20);
                return;
            }
            FileServer.respond(ex, 200, body, java.util.Map.of());
        });
        try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(QUICK)
                .readTimeout(Duration.ofMillis(500)).build()) {
            FetchResult r = f.fetch(FetchRequest.builder(server.url("/s.sh"), dir, "s.sh").build());
            assertThat(Files.readAllBytes(r.path())).isEqualTo(v2);
        }
        assertThat(ranges).isEmpty(); // no resume was even asked for: the date could not prove it the same file
    }

    /** Sends the head of the whole body but only its first {@code bytes}, then cuts the connection. */
    private static void cutAfter(HttpExchange ex, byte[] body, int bytes) {
        try {
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body, 0, bytes);
            ex.getResponseBody().flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            try {
                ex.getResponseBody().close();
            } catch (IOException e) {
                // expected: fewer bytes than announced
            }
        }
    }

    /** A strong ETag resumes; but a 206 whose Content-Range is not the rest of the file is not spliced on. */
    @Test
    void a206ForAnotherRange_isNotSplicedOn_theFileIsFetchedWhole() throws Exception {
        byte[] body = random(3 << 20, 3);
        String tag = "\"v1\"";
        List<String> ranges = new java.util.concurrent.CopyOnWriteArrayList<>();
        AtomicLong served = new AtomicLong();
        server.always("/s.sh", ex -> {
            ex.getResponseHeaders().add("ETag", tag);
            String range = ex.getRequestHeaders().getFirst("Range");
            if (range != null) {
                ranges.add(range + " if-range " + ex.getRequestHeaders().getFirst("If-Range"));
                // a broken cache: claims a part, but from the start
                ex.getResponseHeaders().add("Content-Range", "bytes 0-" + (body.length - 1) + "/" + body.length);
                FileServer.respond(ex, 206, body, java.util.Map.of());
                return;
            }
            if (served.getAndIncrement() == 0) {
                cutAfter(ex, body, 1 << 20);
                return;
            }
            FileServer.respond(ex, 200, body, java.util.Map.of());
        });
        try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(QUICK)
                .readTimeout(Duration.ofMillis(500)).build()) {
            FetchResult r = f.fetch(FetchRequest.builder(server.url("/s.sh"), dir, "s.sh").build());
            assertThat(Files.readAllBytes(r.path())).isEqualTo(body);
        }
        assertThat(ranges).containsExactly("bytes=1048576- if-range " + tag);
        assertThat(served.get()).isEqualTo(2); // the cut-off download, then the whole file again
    }

    // ---- finding 10: nothing endless, nothing slow, holds the fetch ----------------------------------------------

    /** A loopback server speaking raw HTTP/1.1, one connection per request, that says how its writes ended. */
    private static final class RawServer implements AutoCloseable {
        final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final AtomicReference<IOException> writeFailed = new AtomicReference<>();
        final AtomicLong written = new AtomicLong();
        final CountDownLatch ended = new CountDownLatch(1);
        private final Thread thread;

        RawServer(Consumer<OutputStream> answer) throws IOException {
            thread = new Thread(() -> {
                while (!socket.isClosed()) {
                    try (Socket s = socket.accept()) {
                        InputStream in = s.getInputStream();
                        readHead(in);
                        OutputStream out = new java.io.FilterOutputStream(s.getOutputStream()) {
                            @Override
                            public void write(byte[] b, int off, int len) throws IOException {
                                out.write(b, off, len);
                                written.addAndGet(len);
                            }
                        };
                        answer.accept(out);
                    } catch (UncheckedIOException e) {
                        writeFailed.set(e.getCause());
                        ended.countDown();
                    } catch (IOException e) {
                        // the socket closed: done
                    }
                }
            });
            thread.setDaemon(true);
            thread.start();
        }

        URI url(String path) {
            return URI.create("http://127.0.0.1:" + socket.getLocalPort() + path);
        }

        private static void readHead(InputStream in) throws IOException {
            int state = 0;
            while (state < 4) {
                int c = in.read();
                if (c == -1) {
                    throw new IOException("closed");
                }
                state = (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3))
                        ? state + 1 : 0;
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static void write(OutputStream out, byte[] b) {
        try {
            out.write(b);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Consumer<OutputStream> endlessChunked() {
        return out -> {
            write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(US_ASCII));
            byte[] chunk = ("10000\r\n" + "A".repeat(0x10000) + "\r\n").getBytes(US_ASCII);
            while (true) {
                write(out, chunk);
            }
        };
    }

    @Test
    void anEndlessChunkedScript_isCutOffAtTheCap_andTheConnectionAbortedNotDrained() throws Exception {
        try (RawServer raw = new RawServer(endlessChunked())) {
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(QUICK)
                        .build()) {
                    assertThatThrownBy(() -> f.fetch(FetchRequest.builder(raw.url("/s.sh"), dir, "s.sh")
                            .maxBytes(1 << 20).build()))
                            .isInstanceOfSatisfying(FetchException.class,
                                    e -> assertThat(e.failure()).isEqualTo(FetchFailure.TOO_LARGE))
                            .hasMessageContaining("is larger than the 1048576-byte limit");
                }
                assertThat(raw.ended.await(30, TimeUnit.SECONDS)).isTrue();
            });
            assertThat(raw.writeFailed.get()).isNotNull();
            // what the socket buffers held when the fetcher stopped; draining would have gone on for ever
            assertThat(raw.written.get()).isLessThan(64L << 20);
        }
        assertThat(leftovers()).isEmpty();
    }

    @Test
    void anEndlessChunkedSignature_isCutOff_andRefused() throws Exception {
        Keys owner = new Keys();
        byte[] script = "#!/bin/sh\necho signed\n".getBytes(UTF_8);
        try (RawServer raw = new RawServer(out -> {
            // the script on the first connection, the endless .sig on the next
            if (sigTurn.getAndIncrement() == 0) {
                write(out, ("HTTP/1.1 200 OK\r\nContent-Length: " + script.length + "\r\nConnection: close\r\n\r\n")
                        .getBytes(US_ASCII));
                write(out, script);
            } else {
                endlessChunked().accept(out);
            }
        })) {
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(QUICK)
                        .trustedKeys(TrustedKeys.of("owner.pub", owner.publicPem())).build()) {
                    assertThatThrownBy(() -> f.fetch(FetchRequest.builder(raw.url("/s.sh"), dir, "s.sh").build()))
                            .isInstanceOfSatisfying(SignatureRefusedException.class,
                                    e -> assertThat(e.reason()).isEqualTo(RefusalReason.SIGNATURE_INVALID))
                            .hasMessageContaining("s.sh.sig is larger than 4096 bytes");
                }
                assertThat(raw.ended.await(30, TimeUnit.SECONDS)).isTrue();
            });
            assertThat(raw.writeFailed.get()).isNotNull();
        }
        assertThat(dir.resolve("s.sh")).doesNotExist();
    }

    private final AtomicLong sigTurn = new AtomicLong();

    private static Consumer<OutputStream> oneByteASecond(String head) {
        return out -> {
            for (byte b : head.getBytes(US_ASCII)) {
                write(out, new byte[] {b});
                sleep(1000);
            }
            write(out, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n".getBytes(US_ASCII));
            while (true) {
                write(out, new byte[] {'x'});
                sleep(1000);
            }
        };
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new java.io.InterruptedIOException());
        }
    }

    /** One byte a second never trips a read timeout; the attempt's own deadline ends it, and the mirror serves. */
    @Test
    void aServerSendingOneByteASecond_losesItsTurnAtTheAttemptDeadline_andTheMirrorServes() throws Exception {
        byte[] script = "#!/bin/sh\necho mirror\n".getBytes(UTF_8);
        server.file("/m/s.sh", script);
        try (RawServer slow = new RawServer(oneByteASecond(""))) {
            long started = System.nanoTime();
            try (ScriptFetcher f = ScriptFetcher.builder().retryPolicy(QUICK).attemptTimeout(Duration.ofSeconds(2))
                    .build()) {
                FetchResult r = f.fetch(FetchRequest.builder(slow.url("/s.sh"), dir, "s.sh")
                        .mirrors(List.of(server.url("/m/s.sh"))).build());
                assertThat(r.source()).isEqualTo(server.url("/m/s.sh"));
                assertThat(Files.readAllBytes(r.path())).isEqualTo(script);
            }
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(20));
            assertThat(slow.ended.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(slow.writeFailed.get()).isNotNull();
        }
    }

    /** The same for a head sent one byte a second: the attempt deadline covers the whole exchange, head included. */
    @Test
    void aHeadSentOneByteASecond_isAbortedAtTheAttemptDeadline() throws Exception {
        try (RawServer slow = new RawServer(oneByteASecond("HTTP/1.1 200 OK\r\nX-Slow: " + "y".repeat(100)))) {
            long started = System.nanoTime();
            try (ScriptFetcher f = ScriptFetcher.builder().retryPolicy(RetryPolicy.none())
                    .attemptTimeout(Duration.ofSeconds(2)).build()) {
                assertThatThrownBy(() -> f.fetch(FetchRequest.builder(slow.url("/s.sh"), dir, "s.sh").build()))
                        .isInstanceOfSatisfying(FetchException.class,
                                e -> assertThat(e.failure()).isEqualTo(FetchFailure.TIMEOUT))
                        .hasMessageContaining("(no complete answer by the attempt's deadline (attemptTimeout 2.0 s))");
            }
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(20));
            assertThat(slow.ended.await(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    // ---- finding 15: a killed download's staging file ---------------------------------------------------------------

    private List<Path> leftovers() throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".part")).toList();
        }
    }

    @Test
    void stagingFilesOfAKilledDownload_areRemovedTheNextTimeTheDirectoryIsUsed() throws Exception {
        Path stale = Files.write(dir.resolve(".s.sh.3f2a9c01d4e5b6a7.part"), new byte[1 << 16]);
        Path otherTask = Files.write(dir.resolve(".old-name.pl.00ff.part"), new byte[10]);
        Path mine = Files.writeString(dir.resolve("notes.part"), "not a staging file: kept");
        server.file("/s.sh", "echo".getBytes(UTF_8));
        try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep).build()) {
            f.fetch(FetchRequest.builder(server.url("/s.sh"), dir, "s.sh").build());
        }
        assertThat(stale).doesNotExist();
        assertThat(otherTask).doesNotExist();
        assertThat(mine).exists();
    }

    @Test
    void stagingFilesOfAKilledPlacement_areRemovedByPlaceInlineToo() throws Exception {
        Path stale = Files.write(dir.resolve(".inline.sh.1.part"), new byte[10]);
        try (ScriptFetcher f = ScriptFetcher.builder().build()) {
            f.placeInline("echo".getBytes(UTF_8), URI.create("imds:user-data"), dir, "inline.sh");
        }
        assertThat(stale).doesNotExist();
        assertThat(dir.resolve("inline.sh")).hasContent("echo");
    }

    @Test
    void aFailedFetch_leavesNoStagingFileEither() throws Exception {
        server.file("/s.sh", new byte[5000]);
        try (ScriptFetcher f = ScriptFetcher.builder().clock(time).sleeper(time::sleep).build()) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(server.url("/s.sh"), dir, "s.sh").maxBytes(100)
                    .build())).isInstanceOf(FetchException.class);
        }
        assertThat(leftovers()).isEmpty();
    }
}
