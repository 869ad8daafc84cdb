package dev.whatami.server;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.whatami.status.ReceivedReport;
import dev.whatami.status.RunState;
import dev.whatami.status.StatusCodec;
import java.io.IOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /reports}, {@code GET /status} (the fleet page a person reads) and {@code GET /status.json} (the same
 * for tools), both paged and filtered alike: {@code ?role=&state=&provider=&page=&per=}.
 */
final class ReportHandlers extends Handler.Abstract {
    private static final Logger LOG = LoggerFactory.getLogger(ReportHandlers.class);
    /** Reports on one page unless {@code per=} says otherwise. */
    static final int DEFAULT_PER_PAGE = 100;
    /** A refused body up to this size is read and dropped, so the client sees the 413 rather than a reset. */
    private static final long DRAIN_LIMIT = 4L * ReportStore.MAX_BYTES;

    /**
     * Most status pages (or status.json pages) written at once. Each holds at most a batch of reports (a database
     * store's {@code PAGE_BATCH}, the embedded store's are in memory anyway) and blocks while its client reads slowly;
     * more readers get 503 with Retry-After, so slow readers cannot take the heap or every thread.
     */
    static final int MAX_STATUS_READERS = 8;

    private final java.util.concurrent.Semaphore readers = new java.util.concurrent.Semaphore(MAX_STATUS_READERS);
    private final ReportStore store;
    private final Optional<BearerToken> token;
    private final StatusCodec codec = StatusCodec.create();

    private final java.util.function.Consumer<String> outcomes;

    ReportHandlers(ReportStore store, Optional<String> token, java.util.function.Consumer<String> outcomes) {
        this.store = store;
        this.outcomes = outcomes;
        this.token = token.map(BearerToken::bearer);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String path = Request.getPathInContext(request);
        switch (path) {
            case "/reports" -> {
                if (!request.getMethod().equals("POST")) {
                    response.getHeaders().put(HttpHeader.ALLOW, "POST");
                    return send(response, callback, 405, "text/plain", "reports are sent with POST\n");
                }
                return receive(request, response, callback);
            }
            case "/status.json", "/status" -> {
                ReportQuery query;
                try {
                    query = query(Request.extractQueryParameters(request));
                } catch (IllegalArgumentException e) {
                    return send(response, callback, 400, "text/plain", e.getMessage() + "\n");
                }
                if (!readers.tryAcquire()) {
                    // each page being written holds a few reports in memory; this many at once, no more
                    response.getHeaders().put(HttpHeader.RETRY_AFTER, "2");
                    return send(response, callback, 503, "text/plain", "the status is being read by "
                            + MAX_STATUS_READERS + " clients at once; try again in a moment\n");
                }
                try {
                    ReportPage page;
                    try {
                        page = store.page(query);
                    } catch (IOException e) {
                        LOG.warn("could not read the reports: {}", e.toString());
                        return send(response, callback, 503, "text/plain", "the reports cannot be read right now; "
                                + "try again (the server's log says why)\n");
                    }
                    stream(response, callback, path.equals("/status") ? "text/html;charset=utf-8"
                            : "application/json", out -> {
                                if (path.equals("/status")) {
                                    StatusPage.render(page, out);
                                } else {
                                    json(page, out);
                                }
                            });
                    return true;
                } finally {
                    readers.release();
                }
            }
            default -> {
                return false;
            }
        }
    }

    /** The query of {@code ?role=&state=&provider=&page=&per=}; refused with a sentence saying what to write. */
    static ReportQuery query(Fields params) {
        Optional<String> role = Optional.ofNullable(params.getValue("role")).filter(s -> !s.isEmpty());
        Optional<String> provider = Optional.ofNullable(params.getValue("provider")).filter(s -> !s.isEmpty());
        Optional<RunState> state = Optional.empty();
        String s = params.getValue("state");
        if (s != null && !s.isEmpty()) {
            state = Optional.of(RunState.fromToken(s).orElseThrow(() -> new IllegalArgumentException("state="
                    + s + " is not a run state; use one of " + Arrays.stream(RunState.values()).map(RunState::token)
                    .collect(Collectors.joining(", ")))));
        }
        int per = number(params, "per", DEFAULT_PER_PAGE, 1, ReportQuery.MAX_LIMIT);
        int page = number(params, "page", 1, 1, Integer.MAX_VALUE / ReportQuery.MAX_LIMIT);
        return new ReportQuery(role, state, provider, (page - 1) * per, per);
    }

    private static int number(Fields params, String name, int dflt, int min, int max) {
        String v = params.getValue(name);
        if (v == null || v.isEmpty()) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(name + "=" + v + " must be a whole number from " + min + " to " + max);
    }

    private interface Body {
        void writeTo(Writer out) throws IOException;
    }

    /** A 200 written as it is made, in UTF-8 (no Content-Length: chunked, or the end of an HTTP/2 stream). */
    private static void stream(Response response, Callback callback, String type, Body body) {
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        try (Writer out = new java.io.BufferedWriter(new java.io.OutputStreamWriter(
                org.eclipse.jetty.io.Content.Sink.asOutputStream(response), StandardCharsets.UTF_8), 32 * 1024)) {
            body.writeTo(out);
        } catch (IOException | RuntimeException e) {
            callback.failed(e);
            return;
        }
        callback.succeeded();
    }

    private void json(ReportPage page, Writer out) throws IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        ReportPage.Counts c = page.counts();
        Map<String, Object> counts = new LinkedHashMap<>();
        counts.put("instances", c.instances());
        counts.put("byState", c.byState());
        counts.put("byRole", c.byRole());
        counts.put("byProvider", c.byProvider());
        counts.put("failedByRole", c.failedByRole());
        doc.put("counts", counts);
        ReportQuery q = page.query();
        Map<String, Object> filters = new LinkedHashMap<>();
        q.role().ifPresent(v -> filters.put("role", v));
        q.state().ifPresent(v -> filters.put("state", v.token()));
        q.provider().ifPresent(v -> filters.put("provider", v));
        doc.put("filters", filters);
        doc.put("matching", page.matching());
        doc.put("page", q.offset() / q.limit() + 1);
        doc.put("pages", pages(page));
        doc.put("per", q.limit());
        doc.put("instances", List.of());
        JSON pretty = JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT);
        String envelope = pretty.asString(doc);
        // the envelope with its empty list, then the instances streamed into it one at a time
        String head = envelope.substring(0, envelope.lastIndexOf("[ ]"));
        out.write(head);
        out.write("[");
        String sep = " ";
        for (ReceivedReport r : page.each()) {
            out.write(sep);
            out.write(pretty.asString(codec.toMap(r)));
            sep = ", ";
        }
        out.write(" ]");
        out.write(envelope.substring(envelope.lastIndexOf("[ ]") + 3));
        out.write("\n");
    }

    static long pages(ReportPage page) {
        return Math.max(1, (page.matching() + page.query().limit() - 1) / page.query().limit());
    }

    private boolean receive(Request request, Response response, Callback callback) throws IOException {
        if (token.isPresent()) {
            if (!token.get().presentIn(request)) {
                response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
                // the body is not read: tell the client the connection ends, so it does not reuse it
                response.getHeaders().put(HttpHeader.CONNECTION, "close");
                return send(response, callback, 401, "text/plain", "a valid report token is required\n");
            }
        }
        String key = request.getHeaders().get(Reports.KEY_HEADER);
        if (key != null && !Reports.validKey(key)) {
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
            outcomes.accept("refused");
            return send(response, callback, 400, "text/plain", "the " + Reports.KEY_HEADER + " header must be 16-256 "
                    + "letters, digits, '-' or '_'\n");
        }
        Optional<String> instanceKey = Optional.ofNullable(key);
        long declared = request.getLength();
        if (declared > ReportStore.MAX_BYTES) {
            outcomes.accept("refused");
            if (declared > DRAIN_LIMIT) {
                response.getHeaders().put(HttpHeader.CONNECTION, "close");
                return send(response, callback, 413, "text/plain", "reports are at most " + ReportStore.MAX_BYTES
                        + " bytes\n");
            }
        }
        // the body is read as it arrives, holding no thread while a client sends slowly
        BodyReader.read(request, ReportStore.MAX_BYTES, DRAIN_LIMIT, new BodyReader.Done() {
            @Override
            public void body(byte[] body) {
                keep(request, body, instanceKey, response, callback);
            }

            @Override
            public void tooLarge(boolean drained) {
                if (declared <= ReportStore.MAX_BYTES) {
                    outcomes.accept("refused");
                }
                if (!drained) {
                    response.getHeaders().put(HttpHeader.CONNECTION, "close");
                }
                send(response, callback, 413, "text/plain", "reports are at most " + ReportStore.MAX_BYTES
                        + " bytes\n");
            }

            @Override
            public void failed(Throwable cause) {
                callback.failed(cause);
            }
        });
        return true;
    }

    private void keep(Request request, byte[] body, Optional<String> instanceKey, Response response,
            Callback callback) {
        try {
            outcomes.accept(store.accept(body, Request.getRemoteAddr(request), instanceKey).name().toLowerCase(java.util.Locale.ROOT));
        } catch (ReportStore.InvalidReportException e) {
            outcomes.accept("refused");
            send(response, callback, e.status(), "text/plain", e.getMessage() + "\n");
            return;
        } catch (IOException | RuntimeException e) {
            outcomes.accept("failed");
            LOG.warn("could not keep a report: {}", e.toString());
            response.getHeaders().put(HttpHeader.RETRY_AFTER, "5");
            send(response, callback, 503, "text/plain", "the report could not be kept right now; send it "
                    + "again (the server's log says why)\n");
            return;
        }
        send(response, callback, 204, "text/plain", "");
    }

    private static boolean send(Response response, Callback callback, int status, String type, String body) {
        response.setStatus(status);
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        if (status != 204) {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        }
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.write(true, status == 204 ? ByteBuffer.allocate(0) : ByteBuffer.wrap(bytes), callback);
        return true;
    }
}
