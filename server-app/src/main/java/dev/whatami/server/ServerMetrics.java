package dev.whatami.server;

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
 */
final class ServerMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests;
    private final Counter bytes;
    private final Counter uploads;
    private final Counter reports;
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    ServerMetrics(IntSupplier connections, Optional<ReportStore> store) {
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
    void report(String outcome) {
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

    /** Counts every request, and answers {@code GET /metrics}; outermost but one (inside the slow-client guard). */
    Handler handler(Handler next) {
        return new Handler.Wrapper(next) {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                String path = Request.getPathInContext(request);
                String method = request.getMethod();
                String route = route(path);
                Callback counted = Callback.from(() -> {
                    String status = String.valueOf(response.getStatus());
                    requests.labelValues(route, known(method), status).inc();
                    bytes.labelValues(route).inc(Response.getContentBytesWritten(response));
                    if (route.equals("scripts") && (method.equals("PUT") || method.equals("DELETE"))) {
                        uploads.labelValues(method, status).inc();
                    }
                }, callback);
                if (route.equals("metrics")) {
                    return scrape(request, response, counted);
                }
                if (!super.handle(request, response, counted)) {
                    Response.writeError(request, response, counted, 404);
                }
                return true;
            }
        };
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
