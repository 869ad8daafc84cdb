package dev.whatami.server.files;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.server.ScriptServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
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
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scripts of {@link ZeroCopyEndPoint#MIN_BYTES} and more are sent with {@code sendfile} from a private copy
 * of the snapshot. Whatever the socket accepts at a time (here a client with a 4 KiB receive buffer, so the server's
 * sends are cut short over and over), on a kept-alive connection with pipelined requests, for ranges, over HTTP/2
 * (where Jetty's own frames are written and the copy path is used), and after the file was replaced: the bytes
 * received are exactly the file's.
 */
class ZeroCopyTest {
    @TempDir
    Path dir;
    private Path root;
    private ScriptServer server;
    private byte[] big;

    @BeforeEach
    void start() throws Exception {
        root = Files.createDirectories(dir.resolve("www"));
        big = new byte[1 << 20];
        new Random(19).nextBytes(big);
        Files.write(root.resolve("big.bin"), big);
        Files.writeString(root.resolve("small.txt"), "small\n");
        server = ScriptServer.builder(root).bind("127.0.0.1").port(0).build().start();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    @Test
    void aSlowReader_onOneConnection_getsEveryByte_ofWholeFilesAndRanges() throws Exception {
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(4096); // the server's sends fill the window again and again
            s.connect(new InetSocketAddress("127.0.0.1", server.address().getPort()), 5000);
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            String req = "GET /scriptserver/big.bin HTTP/1.1\r\nHost: localhost\r\n";
            // three pipelined requests: whole, a range across the 64 KiB mark, a suffix range
            out.write((req + "\r\n" + req + "Range: bytes=65000-300000\r\n\r\n" + req + "Range: bytes=-70000\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            Reply whole = Reply.read(in);
            assertThat(whole.status).isEqualTo(200);
            assertThat(whole.body).isEqualTo(big);
            Reply range = Reply.read(in);
            assertThat(range.status).isEqualTo(206);
            assertThat(range.headers).contains("content-range: bytes 65000-300000/1048576");
            assertThat(range.body).isEqualTo(Arrays.copyOfRange(big, 65000, 300001));
            Reply suffix = Reply.read(in);
            assertThat(suffix.status).isEqualTo(206);
            assertThat(suffix.body).isEqualTo(Arrays.copyOfRange(big, big.length - 70000, big.length));
        }
    }

    @Test
    void http1AndHttp2_andAReplacedFile_getTheCurrentBytes() throws Exception {
        URI uri = URI.create(server.uri() + "/scriptserver/big.bin");
        for (HttpClient.Version v : HttpClient.Version.values()) {
            HttpClient http = HttpClient.newBuilder().version(v).connectTimeout(Duration.ofSeconds(5)).build();
            // the first request on a connection carries the h2c upgrade. Its response follows the 101 at once, and
            // clients mishandle a large one there (JDK 17 and 25: "protocol error: Frame type(123)…", about one in
            // 300 under load; curl 7.88: "connection buffer size is too small", one in 3; with prior knowledge,
            // 0 in 300): so a small file first, and the large ones as HTTP/2 streams of the upgraded connection
            HttpResponse<String> first = http.send(HttpRequest.newBuilder(URI.create(server.uri()
                    + "/scriptserver/small.txt")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(first.body()).isEqualTo("small\n");
            for (int i = 0; i < 3; i++) {
                HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(uri).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).as(v + " #" + i).isEqualTo(big);
                assertThat(r.version()).isEqualTo(v);
            }
        }
        byte[] next = new byte[300_000];
        new Random(20).nextBytes(next);
        Path tmp = root.resolve(".next");
        Files.write(tmp, next);
        Files.move(tmp, root.resolve("big.bin"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        HttpResponse<byte[]> r = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
                HttpRequest.newBuilder(uri).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.body()).isEqualTo(next);
    }

    @Test
    void theCopies_areUnlinkedAtOnce_andSmallSnapshotsHaveNone() throws Exception {
        Path copies = Files.createDirectories(dir.resolve("copies"));
        FileSnapshots.Memory large = FileSnapshots.Memory.allocate(ZeroCopyEndPoint.MIN_BYTES, copies);
        FileSnapshots.Memory small = FileSnapshots.Memory.allocate(ZeroCopyEndPoint.MIN_BYTES - 1, copies);
        try (Stream<Path> left = Files.list(copies)) {
            assertThat(left).isEmpty();
        }
        assertThat(large.copy()).isNotNull();
        assertThat(large.copy().size()).isEqualTo(ZeroCopyEndPoint.MIN_BYTES);
        assertThat(small.copy()).isNull();
        assertThat(FileSnapshots.Memory.allocate(ZeroCopyEndPoint.MIN_BYTES, dir.resolve("missing")).copy())
                .as("no such directory: direct memory").isNull();
        large.release();
        assertThat(large.copy().isOpen()).isFalse();
    }

    /** One HTTP/1.1 response with a Content-Length. */
    private record Reply(int status, String headers, byte[] body) {
        static Reply read(InputStream in) throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (true) {
                int b = in.read();
                if (b < 0) {
                    throw new IOException("closed before the headers ended: " + head);
                }
                head.write(b);
                byte[] h = head.toByteArray();
                int n = h.length;
                if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') {
                    break;
                }
            }
            String headers = head.toString(StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT);
            int status = Integer.parseInt(headers.substring(9, 12));
            int at = headers.indexOf("content-length:");
            int length = Integer.parseInt(headers.substring(at + 15, headers.indexOf('\r', at)).strip());
            return new Reply(status, headers, in.readNBytes(length));
        }
    }
}
