package dev.whatami.testsupport;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.ByteArrayInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;

/**
 * The tests' HTTP server: the JDK's own, on loopback only, at a port of its choosing. It routes by path (exactly,
 * query ignored) to a handler or a canned answer, answers 404 elsewhere, records every request (method, path, query,
 * headers, body), and puts faults in front of a path's next {@code n} answers: a status, no answer at all, a late
 * answer, a closed connection, a body cut short or dribbled out. Over https with an {@link SSLContext} the test
 * makes. Thread-safe; each request has a thread of its own, so a hanging answer holds up no other.
 *
 * <pre>{@code
 * try (TestHttpServer files = TestHttpServer.start()) {
 *     files.file("/c.sh", script).fault("/c.sh", 2, Fault.status(503));
 *     fetch(files.uri("/c.sh"));
 *     assertThat(files.hits("/c.sh")).isEqualTo(3);
 * }
 * }</pre>
 */
public final class TestHttpServer implements AutoCloseable {
    /**
     * What goes wrong with an answer: given the path's normal handler, the handler that answers instead. A lambda
     * that ignores {@code normal} answers a request its own way.
     */
    @FunctionalInterface
    public interface Fault {
        /** The handler that answers in place of {@code normal}. */
        HttpHandler apply(HttpHandler normal);

        /** This status, with an empty body. */
        static Fault status(int status) {
            return status(status, Map.of());
        }

        /** This status and these headers, with an empty body. */
        static Fault status(int status, Map<String, String> headers) {
            Map<String, String> copy = Map.copyOf(headers);
            return normal -> ex -> respond(ex, status, new byte[0], copy);
        }

        /** The request is read and never answered, until the server closes (or a minute passes). */
        static Fault hang() {
            return normal -> ex -> {
                try {
                    ((CountDownLatch) ex.getHttpContext().getAttributes().get(CLOSING)).await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                ex.close();
            };
        }

        /** The connection is closed with no answer at all. */
        static Fault drop() {
            return normal -> HttpExchange::close;
        }

        /** The normal answer, after {@code delay} (of real time: it is the client's read timeout that is tested). */
        static Fault delay(Duration delay) {
            return normal -> ex -> {
                try {
                    Thread.sleep(delay.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    ex.close();
                    return;
                }
                normal.handle(ex);
            };
        }

        /**
         * The normal answer's head (with its full Content-Length) and half its body, then the connection is closed.
         * For an answer with a body; {@link #drop()} is the fault of one without.
         */
        static Fault cut() {
            return cutAfter(-1);
        }

        /** The normal answer's head (with its full Content-Length) and its first {@code bytes}, then it is cut. */
        static Fault cutAfter(int bytes) {
            return normal -> ex -> {
                ex.setStreams(null, new Cut(ex, bytes));
                normal.handle(ex);
            };
        }

        /** The normal answer, its body written {@code bytes} at a time with {@code pause} (real time) in between. */
        static Fault dribble(int bytes, Duration pause) {
            return normal -> ex -> {
                ex.setStreams(null, new Dribble(ex.getResponseBody(), Math.max(1, bytes), pause));
                normal.handle(ex);
            };
        }
    }

    /** A request as the server read it. */
    public record Request(String method, String path, String query, Map<String, List<String>> headers, byte[] body) {
        /** The first value of header {@code name} (any case). */
        public Optional<String> header(String name) {
            List<String> values = headers.get(name);
            return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
        }

        /** The body as UTF-8 text. */
        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private record Queued(Fault fault, int[] left) {
    }

    private static final String CLOSING = TestHttpServer.class.getName() + ".closing";

    private final SSLContext tls;
    private final int port;
    private final Map<String, HttpHandler> routes = new ConcurrentHashMap<>();
    private final Map<String, Deque<Queued>> faults = new ConcurrentHashMap<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final List<IOException> failures = new CopyOnWriteArrayList<>();
    private final CountDownLatch closing = new CountDownLatch(1);
    private volatile HttpHandler fallback = ex -> respond(ex, 404, new byte[0], Map.of());
    private HttpServer server;
    private ExecutorService pool;

    private TestHttpServer(SSLContext tls, int port) {
        this.tls = tls;
        this.port = port;
    }

    /** An http server, listening now at a free port. */
    public static TestHttpServer start() {
        return start(0);
    }

    /** An http server, listening now at {@code port} (0: a free one). */
    public static TestHttpServer start(int port) {
        return new TestHttpServer(null, port).listen();
    }

    /** An https server with {@code tls}'s key and certificate, listening now at a free port. */
    public static TestHttpServer startHttps(SSLContext tls) {
        return new TestHttpServer(tls, 0).listen();
    }

    /**
     * An http server whose port is chosen now but that listens only from {@link #listen()}: until then a connection
     * is refused, as by a server that is not up yet.
     */
    public static TestHttpServer notYetListening() {
        return new TestHttpServer(null, Ports.free());
    }

    /** A URL at a loopback port nothing listens on (it was free a moment ago): a connection there is refused. */
    public static URI nothingListening(String path) {
        return URI.create("http://127.0.0.1:" + Ports.free() + path);
    }

    /** Starts listening, if it is not yet. */
    public synchronized TestHttpServer listen() {
        if (server == null) {
            try {
                InetSocketAddress at = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
                HttpServer s;
                if (tls == null) {
                    s = HttpServer.create(at, 50);
                } else {
                    HttpsServer https = HttpsServer.create(at, 50);
                    https.setHttpsConfigurator(new HttpsConfigurator(tls));
                    s = https;
                }
                pool = Executors.newCachedThreadPool(r -> {
                    Thread t = new Thread(r, "test-http-server");
                    t.setDaemon(true);
                    return t;
                });
                s.setExecutor(pool);
                s.createContext("/", this::dispatch).getAttributes().put(CLOSING, closing);
                s.start();
                server = s;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return this;
    }

    /** Whether it listens. */
    public synchronized boolean listening() {
        return server != null;
    }

    /** Its port. */
    public synchronized int port() {
        return server == null ? port : server.getAddress().getPort();
    }

    /** The URL of {@code path} here ({@code http://127.0.0.1:<port><path>}, or https). */
    public URI uri(String path) {
        return URI.create((tls == null ? "http" : "https") + "://127.0.0.1:" + port() + path);
    }

    /** Every request to {@code path} is answered by {@code handler} (after any faults). */
    public TestHttpServer route(String path, HttpHandler handler) {
        routes.put(path, handler);
        return this;
    }

    /** Every request to {@code path} is answered {@code status}, {@code body} and {@code headers}. */
    public TestHttpServer answer(String path, int status, byte[] body, Map<String, String> headers) {
        return route(path, answer(status, body, headers));
    }

    /** Every request to {@code path} is answered 200 with {@code body}. */
    public TestHttpServer file(String path, byte[] body) {
        return answer(path, 200, body, Map.of());
    }

    /** Requests to paths without a route are answered by {@code handler} (by default: 404). */
    public TestHttpServer fallback(HttpHandler handler) {
        fallback = handler;
        return this;
    }

    /** The next {@code times} requests to {@code path} get {@code fault}, after the faults already queued there. */
    public TestHttpServer fault(String path, int times, Fault fault) {
        if (times > 0) {
            Deque<Queued> q = faults.computeIfAbsent(path, k -> new ArrayDeque<>());
            synchronized (q) {
                q.add(new Queued(fault, new int[] {times}));
            }
        }
        return this;
    }

    /** Every request so far, oldest first. */
    public List<Request> requests() {
        return Collections.unmodifiableList(requests);
    }

    /** The requests to {@code path} so far, oldest first. */
    public List<Request> requests(String path) {
        return requests.stream().filter(r -> r.path().equals(path)).toList();
    }

    /** How many requests so far. */
    public int hits() {
        return requests.size();
    }

    /** How many requests to {@code path} so far. */
    public int hits(String path) {
        return requests(path).size();
    }

    /** The I/O errors answers met so far (a write to a connection the client closed, most often), oldest first. */
    public List<IOException> failures() {
        return Collections.unmodifiableList(failures);
    }

    /**
     * Waits up to {@code timeout} (real time) until an answer has met an I/O error; whether one has. For a test that
     * asserts the server saw its connection closed.
     */
    public boolean awaitFailure(Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        synchronized (failures) {
            while (failures.isEmpty()) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(failures, left);
            }
            return true;
        }
    }

    /** A handler that answers {@code status}, {@code body} and {@code headers}. */
    public static HttpHandler answer(int status, byte[] body, Map<String, String> headers) {
        byte[] copy = body.clone();
        Map<String, String> h = Map.copyOf(headers);
        return ex -> respond(ex, status, copy, h);
    }

    /** Answers {@code ex} with {@code status}, {@code headers} and {@code body} (none when empty), and closes it. */
    public static void respond(HttpExchange ex, int status, byte[] body, Map<String, String> headers) {
        try {
            headers.forEach((k, v) -> ex.getResponseHeaders().add(k, v));
            ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            if (body.length > 0) {
                ex.getResponseBody().write(body);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            ex.close();
        }
    }

    private void dispatch(HttpExchange raw) throws IOException {
        String path = raw.getRequestURI().getPath();
        byte[] body = raw.getRequestBody().readAllBytes();
        raw.setStreams(new ByteArrayInputStream(body), null);
        Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        raw.getRequestHeaders().forEach((k, v) -> headers.put(k, List.copyOf(v)));
        requests.add(new Request(raw.getRequestMethod(), path, raw.getRequestURI().getRawQuery(),
                Collections.unmodifiableMap(headers), body));
        HttpHandler normal = routes.getOrDefault(path, fallback);
        Fault fault = nextFault(path);
        HttpHandler handler = fault == null ? normal : fault.apply(normal);
        try {
            handler.handle(raw);
        } catch (IOException e) {
            failed(e);
            raw.close();
        } catch (UncheckedIOException e) {
            failed(e.getCause());
            raw.close();
        }
    }

    private void failed(IOException e) {
        synchronized (failures) {
            failures.add(e);
            failures.notifyAll();
        }
    }

    private Fault nextFault(String path) {
        Deque<Queued> q = faults.get(path);
        if (q == null) {
            return null;
        }
        synchronized (q) {
            Queued head = q.peek();
            if (head == null) {
                return null;
            }
            if (--head.left()[0] == 0) {
                q.poll();
            }
            return head.fault();
        }
    }

    /** Stops listening; answers that hang are let go. */
    @Override
    public synchronized void close() {
        closing.countDown();
        if (server != null) {
            server.stop(0);
            pool.shutdownNow();
        }
    }

    /**
     * Lets the first {@code keep} bytes of the body through ({@code -1}: half its Content-Length), then closes the
     * exchange with the body short of its length: the body's close fails ("insufficient bytes written"), and on that
     * the JDK's server closes the connection (a body closed first would leave the connection open and silent).
     */
    private static final class Cut extends FilterOutputStream {
        private final HttpExchange ex;
        private long left;
        private boolean cut;
        private boolean cutting;

        Cut(HttpExchange ex, long keep) {
            super(ex.getResponseBody());
            this.ex = ex;
            this.left = keep;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (cut) {
                return;
            }
            if (left < 0) {
                String length = ex.getResponseHeaders().getFirst("Content-length");
                left = length == null ? 0 : Long.parseLong(length) / 2;
            }
            int n = (int) Math.min(len, left);
            out.write(b, off, n);
            left -= n;
            if (n < len) {
                cut = true;
                cutting = true;
                try {
                    out.flush();
                } finally {
                    ex.close();
                    cutting = false;
                }
            }
        }

        @Override
        public void close() throws IOException {
            if (cutting) {
                throw new IOException("cut short of its Content-Length");
            }
            if (!cut) {
                out.close();
            }
        }
    }

    /** Writes {@code chunk} bytes at a time with a real pause between. */
    private static final class Dribble extends FilterOutputStream {
        private final int chunk;
        private final long pauseMillis;

        Dribble(OutputStream out, int chunk, Duration pause) {
            super(out);
            this.chunk = chunk;
            this.pauseMillis = pause.toMillis();
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            for (int i = 0; i < len; i += chunk) {
                out.write(b, off + i, Math.min(chunk, len - i));
                out.flush();
                try {
                    Thread.sleep(pauseMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("the server closed");
                }
            }
        }
    }
}
