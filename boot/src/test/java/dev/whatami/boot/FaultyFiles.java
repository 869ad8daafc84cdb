package dev.whatami.boot;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A file server for the agent's fault matrix: serves fixed bodies at paths, takes POSTs, and, per path, injects one
 * kind of fault into the next {@code n} answers (the metadata emulator does the same for metadata paths). Its port is
 * chosen at once, but nothing listens on it until {@link #start()}: before that a connection is refused, as from a
 * file server that is not up yet. Loopback only.
 */
final class FaultyFiles implements AutoCloseable {
    /** What goes wrong with an answer. */
    enum Fault {
        /** The request is read and never answered. */
        HANG,
        /** Headers (with the full Content-Length) and half the body, then the connection is closed. */
        RESET,
        /** 503. */
        S503,
        /** 429 with {@code Retry-After: 1}. */
        S429,
        /** Answered after the rule's delay. */
        SLOW
    }

    private record Rule(Fault fault, AtomicInteger left, Duration delay) {
    }

    private final int port;
    private final Map<String, byte[]> bodies = new ConcurrentHashMap<>();
    private final Map<String, Rule> rules = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    private final List<byte[]> posted = new CopyOnWriteArrayList<>();
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private final CountDownLatch stopping = new CountDownLatch(1);
    private volatile HttpServer server;
    private ExecutorService pool;

    FaultyFiles() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
    }

    FaultyFiles serve(String path, byte[] body) {
        bodies.put(path, body.clone());
        return this;
    }

    /** The next {@code n} requests for {@code path} get {@code fault}. */
    FaultyFiles fault(String path, Fault fault, int n) {
        return fault(path, fault, n, Duration.ZERO);
    }

    /** The next {@code n} requests for {@code path} get {@code fault}; {@link Fault#SLOW} waits {@code delay}. */
    FaultyFiles fault(String path, Fault fault, int n, Duration delay) {
        rules.put(path, new Rule(fault, new AtomicInteger(n), delay));
        return this;
    }

    /** Starts listening (idempotent). */
    synchronized FaultyFiles start() throws IOException {
        if (server == null) {
            HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
            pool = Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "faulty-files");
                t.setDaemon(true);
                return t;
            });
            s.setExecutor(pool);
            s.createContext("/", this::handle);
            s.start();
            server = s;
        }
        return this;
    }

    boolean started() {
        return server != null;
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    int hits(String path) {
        return hits.getOrDefault(path, new AtomicInteger()).get();
    }

    /** Each request so far, oldest first: method, path and its Authorization and instance key headers if any. */
    List<String> requests() {
        return List.copyOf(requests);
    }

    /** The bodies POSTed so far, oldest first. */
    List<byte[]> posted() {
        return List.copyOf(posted);
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        String key = ex.getRequestHeaders().getFirst("Whatami-Instance-Key");
        requests.add(ex.getRequestMethod() + " " + path + (auth == null ? "" : " Authorization: " + auth)
                + (key == null ? "" : " Whatami-Instance-Key: " + key));
        byte[] request = ex.getRequestBody().readAllBytes();
        Rule rule = rules.get(path);
        Fault fault = rule != null && rule.left().getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0 ? rule.fault() : null;
        try {
            if (fault == Fault.HANG) {
                stopping.await(60, TimeUnit.SECONDS);
                ex.close();
                return;
            }
            if (fault == Fault.SLOW) {
                Thread.sleep(rule.delay().toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ex.close();
            return;
        }
        if (fault == Fault.S503 || fault == Fault.S429) {
            if (fault == Fault.S429) {
                ex.getResponseHeaders().add("Retry-After", "1");
            }
            ex.sendResponseHeaders(fault == Fault.S503 ? 503 : 429, -1);
            ex.close();
            return;
        }
        if (ex.getRequestMethod().equals("POST")) {
            if (fault == Fault.RESET) {
                ex.close(); // the connection closes with no answer at all
                return;
            }
            posted.add(request);
            ex.sendResponseHeaders(204, -1);
            ex.close();
            return;
        }
        byte[] body = bodies.get(path);
        if (body == null) {
            ex.sendResponseHeaders(404, -1);
            ex.close();
            return;
        }
        ex.sendResponseHeaders(200, body.length);
        OutputStream out = ex.getResponseBody();
        if (fault == Fault.RESET) {
            out.write(body, 0, body.length / 2);
            out.flush();
            try {
                out.close();
            } catch (IOException expected) {
                // "insufficient bytes written": the JDK's server closes the connection, the client sees it cut
            }
            return;
        }
        out.write(body);
        out.close();
    }

    @Override
    public synchronized void close() {
        stopping.countDown();
        if (server != null) {
            server.stop(0);
            pool.shutdownNow();
        }
    }
}
