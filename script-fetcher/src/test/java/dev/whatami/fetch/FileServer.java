package dev.whatami.fetch;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.whatami.testsupport.TestHttpServer;
import dev.whatami.testsupport.TestHttpServer.Fault;
import java.net.URI;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A file server on loopback (the tests' {@link TestHttpServer}) that answers as a real one does: each file with its
 * ETag, conditional and range requests honoured; a test scripts other answers per path; unknown paths are 404.
 */
final class FileServer implements AutoCloseable {
    private final TestHttpServer http;
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    /** How many requests so far. */
    final Supplier<Integer> hits;
    /** Paths requested, in order. */
    final List<String> requests;
    /** The Accept-Encoding header of each request, in order ("-" when absent). */
    final List<String> acceptEncodings;
    /** What each request asked for, in order: method, path and raw query as sent, e.g. "GET /c.sh?sha256=9f86…". */
    final List<String> requestLines;

    FileServer() {
        this(0);
    }

    /** On a given port (0: any free one). */
    FileServer(int port) {
        http = TestHttpServer.start(port).fallback(this::serveFile);
        hits = http::hits;
        requests = view(TestHttpServer.Request::path);
        acceptEncodings = view(r -> r.header("Accept-Encoding").orElse("-"));
        requestLines = view(r -> r.method() + " " + r.path() + (r.query() == null ? "" : "?" + r.query()));
    }

    private List<String> view(Function<TestHttpServer.Request, String> field) {
        return new AbstractList<>() {
            @Override
            public String get(int index) {
                return field.apply(http.requests().get(index));
            }

            @Override
            public int size() {
                return http.requests().size();
            }
        };
    }

    int port() {
        return http.port();
    }

    long hits(String path) {
        return http.hits(path);
    }

    /** Every request to {@code path} is answered by {@code action}. */
    FileServer always(String path, HttpHandler action) {
        http.route(path, action);
        return this;
    }

    URI url(String path) {
        return http.uri(path);
    }

    FileServer file(String path, byte[] content) {
        files.put(path, content);
        return this;
    }

    /** The next {@code times} requests to {@code path} get {@code fault}. */
    FileServer fault(String path, int times, TestHttpServer.Fault fault) {
        http.fault(path, times, fault);
        return this;
    }

    /** The next request to {@code path} gets this status with an empty body. */
    FileServer failOnce(String path, int status) {
        return status(path, status, Map.of());
    }

    FileServer redirectOnce(String path, URI to) {
        return status(path, 302, Map.of("Location", to.toString()));
    }

    final List<String> rangeRequests = new CopyOnWriteArrayList<>();
    final List<String> conditionalRequests = new CopyOnWriteArrayList<>();
    volatile boolean honourRanges = true;
    /** Like Jetty's: a weak ETag, so If-Range must use the Last-Modified date. */
    volatile boolean weakEtags;
    /**
     * Answers {@code ?sha256=<hex>} as whatami-server does: only while the file is that version (and no larger than
     * this many bytes), else 404; other queries are ignored. Negative: every query is ignored, as by a plain server.
     */
    volatile long contentAddressedUpTo = -1;
    static final String LAST_MODIFIED = "Tue, 24 Nov 2026 10:00:00 GMT";

    String tagOf(byte[] body) {
        return (weakEtags ? "W/" : "") + etag(body);
    }

    static String etag(byte[] body) {
        return "\"" + Integer.toHexString(Arrays.hashCode(body)) + "\"";
    }

    /** The next request to {@code path} gets the headers of the whole file but only its first {@code bytes}. */
    FileServer dropAfter(String path, int bytes) {
        http.fault(path, 1, normal -> ex -> {
            byte[] body = files.get(path);
            Fault.cutAfter(bytes).apply(e -> respond(e, 200, body, Map.of("ETag", tagOf(body), "Last-Modified",
                    LAST_MODIFIED))).handle(ex);
        });
        return this;
    }

    /** The next request to {@code path} gets this status and these headers, with an empty body. */
    FileServer status(String path, int status, Map<String, String> headers) {
        http.fault(path, 1, Fault.status(status, headers));
        return this;
    }

    private void serveFile(HttpExchange ex) {
        String path = ex.getRequestURI().getPath();
        byte[] body = files.get(path);
        if (body == null) {
            respond(ex, 404, new byte[0], Map.of());
            return;
        }
        String query = ex.getRequestURI().getRawQuery();
        if (contentAddressedUpTo >= 0 && query != null && query.startsWith("sha256=")) {
            String wanted = query.substring("sha256=".length());
            if (body.length > contentAddressedUpTo || !wanted.equals(sha256(body))) {
                respond(ex, 404, "not this version; fetch it by name\n".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        Map.of("Cache-Control", "no-store"));
                return;
            }
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
            byte[] rest = Arrays.copyOfRange(body, from, body.length);
            respond(ex, 206, rest, Map.of("ETag", tag, "Content-Range", "bytes " + from + "-" + (body.length - 1) + "/"
                    + body.length));
            return;
        }
        respond(ex, 200, body, Map.of("ETag", tag));
    }

    private static String sha256(byte[] body) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(body));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static void respond(HttpExchange ex, int status, byte[] body, Map<String, String> headers) {
        TestHttpServer.respond(ex, status, body, headers);
    }

    @Override
    public void close() {
        http.close();
    }
}
