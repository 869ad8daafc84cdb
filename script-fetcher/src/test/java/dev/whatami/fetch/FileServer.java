package dev.whatami.fetch;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/** A file server on loopback whose answers a test scripts per path; unknown paths are 404. */
final class FileServer implements AutoCloseable {
    private final HttpServer server;
    private final Map<String, Deque<Consumer<HttpExchange>>> script = new ConcurrentHashMap<>();
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    private final Map<String, Consumer<HttpExchange>> always = new ConcurrentHashMap<>();
    final AtomicInteger hits = new AtomicInteger();
    /** Paths requested, in order. */
    final java.util.List<String> requests = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The Accept-Encoding header of each request, in order ("-" when absent). */
    final java.util.List<String> acceptEncodings = new java.util.concurrent.CopyOnWriteArrayList<>();

    FileServer() {
        this(0);
    }

    /** On a given port (0: any free one). */
    FileServer(int port) {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/", this::handle);
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    long hits(String path) {
        return requests.stream().filter(path::equals).count();
    }

    /** Every request to {@code path} is answered by {@code action}. */
    FileServer always(String path, Consumer<HttpExchange> action) {
        always.put(path, action);
        return this;
    }

    URI url(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    FileServer file(String path, byte[] content) {
        files.put(path, content);
        return this;
    }

    /** The next request to {@code path} gets this status with an empty body. */
    FileServer failOnce(String path, int status) {
        return onceDo(path, ex -> respond(ex, status, new byte[0], Map.of()));
    }

    FileServer redirectOnce(String path, URI to) {
        return onceDo(path, ex -> respond(ex, 302, new byte[0], Map.of("Location", to.toString())));
    }

    private FileServer onceDo(String path, Consumer<HttpExchange> action) {
        script.computeIfAbsent(path, k -> new ArrayDeque<>()).add(action);
        return this;
    }

    final java.util.List<String> rangeRequests = new java.util.concurrent.CopyOnWriteArrayList<>();
    final java.util.List<String> conditionalRequests = new java.util.concurrent.CopyOnWriteArrayList<>();
    volatile boolean honourRanges = true;
    /** Like Jetty's: a weak ETag, so If-Range must use the Last-Modified date. */
    volatile boolean weakEtags;
    static final String LAST_MODIFIED = "Tue, 24 Nov 2026 10:00:00 GMT";

    String tagOf(byte[] body) {
        return (weakEtags ? "W/" : "") + etag(body);
    }

    static String etag(byte[] body) {
        return "\"" + Integer.toHexString(java.util.Arrays.hashCode(body)) + "\"";
    }

    /** The next request to {@code path} gets the headers of the whole file but only its first {@code bytes}. */
    FileServer dropAfter(String path, int bytes) {
        return onceDo(path, ex -> {
            byte[] body = files.get(path);
            try {
                ex.getResponseHeaders().add("ETag", tagOf(body));
                ex.getResponseHeaders().add("Last-Modified", LAST_MODIFIED);
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body, 0, bytes);
                ex.getResponseBody().flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                try {
                    ex.getResponseBody().close(); // short of Content-Length: the connection is cut
                } catch (IOException e) {
                    // expected: fewer bytes than announced
                }
            }
        });
    }

    FileServer status(String path, int status, Map<String, String> headers) {
        return onceDo(path, ex -> respond(ex, status, new byte[0], headers));
    }

    private void handle(HttpExchange ex) {
        hits.incrementAndGet();
        String path = ex.getRequestURI().getPath();
        requests.add(path);
        String ae = ex.getRequestHeaders().getFirst("Accept-Encoding");
        acceptEncodings.add(ae == null ? "-" : ae);
        Deque<Consumer<HttpExchange>> q = script.get(path);
        Consumer<HttpExchange> once = q == null ? null : q.poll();
        if (once != null) {
            once.accept(ex);
            return;
        }
        Consumer<HttpExchange> fixed = always.get(path);
        if (fixed != null) {
            fixed.accept(ex);
            return;
        }
        byte[] body = files.get(path);
        if (body == null) {
            respond(ex, 404, new byte[0], Map.of());
            return;
        }
        String tag = tagOf(body);
        String inm = ex.getRequestHeaders().getFirst("If-None-Match");
        if (inm != null) {
            conditionalRequests.add(inm);
            if (inm.equals(tag)) {
                respond(ex, 304, new byte[0], Map.of("ETag", tag));
                return;
            }
        }
        String range = ex.getRequestHeaders().getFirst("Range");
        String ifRange = ex.getRequestHeaders().getFirst("If-Range");
        if (range != null) {
            rangeRequests.add(range + " if-range " + ifRange);
        }
        boolean validatorMatches = weakEtags ? LAST_MODIFIED.equals(ifRange) : tag.equals(ifRange);
        if (honourRanges && range != null && range.matches("bytes=\\d+-") && validatorMatches) {
            int from = Integer.parseInt(range.substring(6, range.length() - 1));
            byte[] rest = java.util.Arrays.copyOfRange(body, from, body.length);
            respond(ex, 206, rest, Map.of("ETag", tag, "Content-Range", "bytes " + from + "-" + (body.length - 1) + "/"
                    + body.length));
            return;
        }
        respond(ex, 200, body, Map.of("ETag", tag));
    }

    static void respond(HttpExchange ex, int status, byte[] body, Map<String, String> headers) {
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

    @Override
    public void close() {
        server.stop(0);
    }
}
