package dev.whatami.emulator.internal;

import dev.whatami.emulator.EmulatorExchange;
import dev.whatami.emulator.EmulatorRequest;
import dev.whatami.emulator.MetadataService;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTP/1.1 server on a loopback socket, written for the emulator rather than borrowed: faults need what
 * general servers hide (a reset in the middle of a body, a head that never comes, a body that never ends), and it
 * logs nothing above debug. One thread per connection; keep-alive; request bodies are read and ignored.
 */
public final class LoopbackServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LoopbackServer.class);
    private static final int MAX_LINE = 8192;
    private static final int MAX_HEADERS = 100;
    private static final int MAX_REQUEST_BODY = 1 << 20;
    private static final AtomicInteger SERVERS = new AtomicInteger();

    private final MetadataService service;
    private final ServerSocket socket;
    private final ExecutorService threads;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    public LoopbackServer(MetadataService service) throws IOException {
        this.service = service;
        this.socket = new ServerSocket();
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        int n = SERVERS.incrementAndGet();
        AtomicInteger t = new AtomicInteger();
        this.threads = Executors.newCachedThreadPool(r -> {
            Thread th = new Thread(r, "metadata-emulator-" + n + "-" + t.incrementAndGet());
            th.setDaemon(true);
            return th;
        });
        threads.execute(this::accept);
    }

    public int port() {
        return socket.getLocalPort();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket s = socket.accept();
                open.add(s);
                threads.execute(() -> connection(s));
            } catch (IOException | java.util.concurrent.RejectedExecutionException e) {
                if (!closed) {
                    LOG.debug("emulator accept failed: {}", e.toString());
                }
            }
        }
    }

    private void connection(Socket s) {
        try (s) {
            s.setTcpNoDelay(true);
            s.setSoTimeout(30_000);
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = new BufferedOutputStream(s.getOutputStream());
            while (!closed) {
                Parsed p = read(in, s.getInetAddress().getHostAddress());
                if (p == null) {
                    return;
                }
                if (p.error != 0) {
                    out.write(("HTTP/1.1 " + p.error + " Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    return;
                }
                Exchange ex = new Exchange(s, out, p);
                service.serve(p.request, ex);
                if (ex.aborted || !ex.finished || !p.keepAlive) {
                    return;
                }
            }
        } catch (IOException e) {
            LOG.debug("emulator connection ended: {}", e.toString());
        } finally {
            open.remove(s);
        }
    }

    private static final class Parsed {
        EmulatorRequest request;
        boolean keepAlive;
        int error;
    }

    /** The next request on the connection, or null at its end. */
    private static Parsed read(InputStream in, String remote) throws IOException {
        String line = line(in);
        while (line != null && line.isEmpty()) {
            line = line(in); // tolerate blank lines between requests
        }
        if (line == null) {
            return null;
        }
        Parsed p = new Parsed();
        String[] parts = line.split(" ");
        if (parts.length != 3 || !parts[2].startsWith("HTTP/1.")) {
            p.error = 400;
            return p;
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (int i = 0; ; i++) {
            String h = line(in);
            if (h == null) {
                return null;
            }
            if (h.isEmpty()) {
                break;
            }
            int colon = h.indexOf(':');
            if (colon <= 0 || i >= MAX_HEADERS) {
                p.error = 400;
                return p;
            }
            headers.computeIfAbsent(h.substring(0, colon).strip(), k -> new ArrayList<>())
                    .add(h.substring(colon + 1).strip());
        }
        String target = parts[1];
        if (target.startsWith("http://") || target.startsWith("https://")) {
            int slash = target.indexOf('/', target.indexOf("//") + 2);
            target = slash < 0 ? "/" : target.substring(slash);
        }
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        Optional<String> query = q < 0 ? Optional.empty() : Optional.of(target.substring(q + 1));
        String connection = first(headers, "Connection").toLowerCase(Locale.ROOT);
        p.keepAlive = parts[2].equals("HTTP/1.1") ? !connection.contains("close") : connection.contains("keep-alive");
        if (!first(headers, "Transfer-Encoding").isEmpty()) {
            p.error = 411; // chunked request bodies: nothing the metadata protocols send
            return p;
        }
        String length = first(headers, "Content-Length");
        if (!length.isEmpty()) {
            long n;
            try {
                n = Long.parseLong(length);
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 0 || n > MAX_REQUEST_BODY) {
                p.error = 400;
                return p;
            }
            in.readNBytes((int) n);
        }
        p.request = new EmulatorRequest(parts[0], path, query, headers, remote);
        return p;
    }

    private static String first(Map<String, List<String>> headers, String name) {
        for (Map.Entry<String, List<String>> e : headers.entrySet()) {
            if (e.getKey().equalsIgnoreCase(name) && !e.getValue().isEmpty()) {
                return e.getValue().get(0);
            }
        }
        return "";
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                byte[] bytes = b.toByteArray();
                int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, len, StandardCharsets.ISO_8859_1);
            }
            if (b.size() >= MAX_LINE) {
                throw new IOException("request line or header longer than " + MAX_LINE + " bytes");
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    /** One answer on the socket. */
    private static final class Exchange implements EmulatorExchange {
        private static final DateTimeFormatter DATE = DateTimeFormatter.RFC_1123_DATE_TIME;
        private final Socket socket;
        private final OutputStream raw;
        private final Parsed parsed;
        private OutputStream body;
        boolean aborted;
        boolean finished;

        Exchange(Socket socket, OutputStream raw, Parsed parsed) {
            this.socket = socket;
            this.raw = raw;
            this.parsed = parsed;
        }

        @Override
        public void sendHead(int status, List<Map.Entry<String, String>> headers, long contentLength)
                throws IOException {
            StringBuilder sb = new StringBuilder(256);
            sb.append("HTTP/1.1 ").append(status).append(' ').append(CloudService.reason(status)).append("\r\n");
            for (Map.Entry<String, String> h : headers) {
                sb.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
            }
            sb.append("Date: ").append(DATE.format(ZonedDateTime.now(ZoneOffset.UTC))).append("\r\n");
            if (contentLength >= 0) {
                sb.append("Content-Length: ").append(contentLength).append("\r\n");
            } else {
                sb.append("Transfer-Encoding: chunked\r\n");
            }
            if (!parsed.keepAlive) {
                sb.append("Connection: close\r\n");
            }
            sb.append("\r\n");
            raw.write(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
            body = contentLength >= 0 ? new Fixed(raw) : new Chunked(raw);
        }

        @Override
        public OutputStream body() {
            if (body == null) {
                throw new IllegalStateException("sendHead first");
            }
            return body;
        }

        @Override
        public void abort() {
            aborted = true;
            try {
                socket.setSoLinger(true, 0); // a reset, as a crashed server or a dropped link gives
                socket.close();
            } catch (IOException e) {
                // gone already
            }
        }

        private final class Fixed extends OutputStream {
            private final OutputStream out;

            Fixed(OutputStream out) {
                this.out = out;
            }

            @Override
            public void write(int b) throws IOException {
                out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void flush() throws IOException {
                out.flush();
            }

            @Override
            public void close() throws IOException {
                out.flush();
                finished = true;
            }
        }

        private final class Chunked extends OutputStream {
            private final OutputStream out;

            Chunked(OutputStream out) {
                this.out = out;
            }

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return;
                }
                out.write((Integer.toHexString(len) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(b, off, len);
                out.write('\r');
                out.write('\n');
            }

            @Override
            public void flush() throws IOException {
                out.flush();
            }

            @Override
            public void close() throws IOException {
                out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                finished = true;
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException | RuntimeException e) {
                // closing anyway
            }
        }
        threads.shutdownNow();
    }
}
