package dev.whatami.metadata;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** A scriptable fake of the EC2 metadata service on loopback, recording every request. */
final class FakeImds implements AutoCloseable {
    record Recorded(String method, String path, String query, Map<String, List<String>> headers) {
        String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().get(0)).findFirst().orElse(null);
        }
    }

    record Reply(int status, String body, long delayMillis, Map<String, String> headers) {
        Reply(int status, String body, long delayMillis) {
            this(status, body, delayMillis, Map.of());
        }

        static Reply ok(String body) {
            return new Reply(200, body, 0);
        }

        static Reply status(int status) {
            return new Reply(status, "", 0);
        }

        Reply withHeader(String name, String value) {
            return new Reply(status, body, delayMillis, Map.of(name, value));
        }
    }

    private final HttpServer server;
    final List<Recorded> requests = new CopyOnWriteArrayList<>();
    private final Map<String, Deque<Reply>> queued = new ConcurrentHashMap<>();
    private final Map<String, Reply> fixed = new ConcurrentHashMap<>();
    private final CountDownLatch release = new CountDownLatch(1);

    FakeImds() {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/", this::handle);
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Answers {@code method path} with {@code reply} every time (after any queued replies). */
    FakeImds on(String method, String path, Reply reply) {
        fixed.put(method + " " + path, reply);
        return this;
    }

    /** Answers the next request to {@code method path} with {@code reply}, once. */
    FakeImds once(String method, String path, Reply reply) {
        queued.computeIfAbsent(method + " " + path, k -> new ArrayDeque<>()).add(reply);
        return this;
    }

    long count(String method, String path) {
        return requests.stream().filter(r -> r.method.equals(method) && r.path.equals(path)).count();
    }

    private void handle(HttpExchange exchange) throws IOException {
        String key = exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath();
        requests.add(new Recorded(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                exchange.getRequestURI().getQuery(), Map.copyOf(exchange.getRequestHeaders())));
        Deque<Reply> q = queued.get(key);
        Reply reply = q != null && !q.isEmpty() ? q.poll() : fixed.getOrDefault(key, Reply.status(404));
        if (reply.delayMillis > 0) {
            try {
                release.await(reply.delayMillis, TimeUnit.MILLISECONDS); // a slow server, released on close
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        reply.headers.forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
        byte[] body = reply.body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(reply.status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            exchange.getResponseBody().write(body);
        }
        exchange.close();
    }

    @Override
    public void close() {
        release.countDown();
        server.stop(0);
    }
}
