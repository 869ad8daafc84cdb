package dev.whatami.server.metrics;

import dev.whatami.server.access.ReadAccess;
import dev.whatami.server.reports.ReportQuery;
import dev.whatami.server.reports.ReportStore;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntSupplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * {@code GET /metrics} in the Prometheus text format: requests and response bytes by route, method and status,
 * uploads, reports received by outcome and kept by state, open connections. Its own registry (no global state).
 *
 * <p>Public for {@code ScriptServer}; not an API.
 */
public final class ServerMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests;
    private final Counter bytes;
    private final Counter uploads;
    private final Counter reports;
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    public ServerMetrics(IntSupplier connections, Optional<ReportStore> store) {
        requests = Counter.builder().name("whatami_http_requests_total")
                .help("HTTP requests answered, by route, method and status").labelNames("route", "method", "status")
                .register(registry);
        bytes = Counter.builder().name("whatami_http_response_bytes_total")
                .help("Response body bytes sent, by route").labelNames("route").register(registry);
        uploads = Counter.builder().name("whatami_uploads_total")
                .help("Script uploads and deletions answered, by method and status").labelNames("method", "status")
                .register(registry);
        reports = Counter.builder().name("whatami_reports_received_total")
                .help("Reports received, by outcome (stored, duplicate, stale, refused, failed)").labelNames("outcome")
                .register(registry);
        GaugeWithCallback.builder().name("whatami_connections_open").help("Open network connections")
                .callback(cb -> cb.call(connections.getAsInt())).register(registry);
        store.ifPresent(s -> GaugeWithCallback.builder().name("whatami_reports_kept")
                .help("Instances whose latest report is kept, by run state").labelNames("state")
                .callback(cb -> {
                    try {
                        for (Map.Entry<String, Long> e : s.page(new ReportQuery(Optional.empty(), Optional.empty(),
                                Optional.empty(), 0, 0)).counts().byState().entrySet()) {
                            cb.call(e.getValue(), e.getKey());
                        }
                    } catch (IOException e) {
                        // the store cannot be read now: no samples this scrape
                    }
                }).register(registry));
    }

    /** Counts a report's outcome. */
    public void report(String outcome) {
        reports.labelValues(outcome).inc();
    }

    /** The route a path belongs to: a small fixed set, so labels stay bounded whatever clients ask for. */
    static String route(String path) {
        if (path.startsWith("/scriptserver/") || path.equals("/scriptserver")) {
            return "scripts";
        }
        return switch (path) {
            case "/reports" -> "reports";
            case "/status", "/status.json" -> "status";
            case "/metrics" -> "metrics";
            case "/healthz" -> "health";
            default -> path.startsWith("/latest/") || path.startsWith("/computeMetadata/")
                    || path.startsWith("/metadata/") ? "metadata" : "other";
        };
    }

    /**
     * Counts every request, and answers {@code GET /metrics}; outermost but one (inside the slow-client guard). A
     * request is counted when its last bytes are handed to the connection, before the client can have them: whoever
     * got an answer finds it in the next scrape. (One the handlers never answered, such as a failure Jetty answers
     * itself, is counted when it completes.) Status, status.json and metrics are read only as {@code access} allows.
     */
    public Handler handler(Handler next, ReadAccess access) {
        return new Handler.Wrapper(next) {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                String path = Request.getPathInContext(request);
                String method = request.getMethod();
                String route = route(path);
                Counted counted = new Counted(request, response, route, known(method));
                Callback done = Callback.from(() -> counted.record(Response.getContentBytesWritten(response)),
                        callback);
                if (ReadAccess.guards(route) && !access.allows(request)) {
                    access.refuse(counted, done);
                    return true;
                }
                if (route.equals("metrics")) {
                    return scrape(request, counted, done);
                }
                if (!super.handle(request, counted, done)) {
                    Response.writeError(request, counted, done, 404);
                }
                return true;
            }
        };
    }

    /** The response, counting itself once: at its last write, or at completion if it never made one. */
    private final class Counted extends Response.Wrapper {
        private final String route;
        private final String method;
        private final java.util.concurrent.atomic.AtomicBoolean recorded = new java.util.concurrent.atomic.AtomicBoolean();
        private long written;

        Counted(Request request, Response response, String route, String method) {
            super(request, response);
            this.route = route;
            this.method = method;
        }

        @Override
        public void write(boolean last, ByteBuffer content, Callback callback) {
            if (content != null) {
                written += content.remaining();
            }
            if (last) {
                record(written);
            }
            super.write(last, content, callback);
        }

        void record(long bytesSent) {
            if (!recorded.compareAndSet(false, true)) {
                return;
            }
            int code = getStatus();
            String status = String.valueOf(code == 0 ? 200 : code); // not set yet: the 200 the commit will send
            requests.labelValues(route, method, status).inc();
            bytes.labelValues(route).inc(bytesSent);
            if (route.equals("scripts") && (method.equals("PUT") || method.equals("DELETE"))) {
                uploads.labelValues(method, status).inc();
            }
        }
    }

    private static String known(String method) {
        return switch (method) {
            case "GET", "HEAD", "PUT", "DELETE", "POST", "OPTIONS" -> method;
            default -> "other";
        };
    }

    private boolean scrape(Request request, Response response, Callback callback) throws IOException {
        if (!request.getMethod().equals("GET") && !request.getMethod().equals("HEAD")) {
            response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
            Response.writeError(request, response, callback, 405, "metrics are read with GET");
            return true;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        writer.write(out, registry.scrape());
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, writer.getContentType());
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, out.size());
        response.write(true, request.getMethod().equals("HEAD") ? ByteBuffer.allocate(0)
                : ByteBuffer.wrap(out.toByteArray()), callback);
        return true;
    }
}
