package dev.whatami.server;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/** {@code POST /reports}, {@code GET /status} (a page a person reads) and {@code GET /status.json}. */
final class ReportHandlers extends Handler.Abstract {
    private final ReportStore store;
    private final Optional<byte[]> token;

    ReportHandlers(ReportStore store, Optional<String> token) {
        this.store = store;
        this.token = token.map(t -> ("Bearer " + t).getBytes(StandardCharsets.UTF_8));
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
            case "/status.json" -> {
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("instances", store.all());
                return send(response, callback, 200, "application/json",
                        JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT).asString(doc) + "\n");
            }
            case "/status" -> {
                return send(response, callback, 200, "text/html;charset=utf-8", StatusPage.render(store.all()));
            }
            default -> {
                return false;
            }
        }
    }

    private boolean receive(Request request, Response response, Callback callback) throws IOException {
        if (token.isPresent()) {
            String given = request.getHeaders().get(HttpHeader.AUTHORIZATION);
            byte[] g = given == null ? new byte[0] : given.getBytes(StandardCharsets.UTF_8);
            if (!MessageDigest.isEqual(g, token.get())) { // constant time
                response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
                // the body is not read: tell the client the connection ends, so it does not reuse it
                response.getHeaders().put(HttpHeader.CONNECTION, "close");
                return send(response, callback, 401, "text/plain", "a valid report token is required\n");
            }
        }
        long declared = request.getLength();
        if (declared > ReportStore.MAX_BYTES) {
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
            return send(response, callback, 413, "text/plain", "reports are at most " + ReportStore.MAX_BYTES
                    + " bytes\n");
        }
        byte[] body;
        try (InputStream in = Request.asInputStream(request)) {
            body = in.readNBytes(ReportStore.MAX_BYTES + 1);
        }
        if (body.length > ReportStore.MAX_BYTES) {
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
            return send(response, callback, 413, "text/plain", "reports are at most " + ReportStore.MAX_BYTES
                    + " bytes\n");
        }
        try {
            store.accept(body, Request.getRemoteAddr(request));
        } catch (ReportStore.InvalidReportException e) {
            return send(response, callback, 400, "text/plain", e.getMessage() + "\n");
        }
        return send(response, callback, 204, "text/plain", "");
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

    /** The page. Everything from a report is untrusted input and is escaped. */
    static final class StatusPage {
        private StatusPage() {
        }

        static String render(List<Map<String, Object>> reports) {
            StringBuilder b = new StringBuilder(4096);
            b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                    .append("<meta http-equiv=\"refresh\" content=\"10\">")
                    .append("<title>whatami: which instance became what</title><style>")
                    .append("body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}")
                    .append("td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}")
                    .append(".done{color:#060}.failed,.invalid,.unreachable,.refused{color:#a00}")
                    .append("</style></head><body>\n<h1>whatami: which instance became what</h1>\n");
            if (reports.isEmpty()) {
                b.append("<p id=\"empty\">No instance has reported yet. Agents report with --report-url ")
                        .append("http://&lt;this server&gt;/reports or report= in their user-data.</p>\n");
            } else {
                b.append("<table id=\"instances\"><thead><tr><th>instance</th><th>provider</th><th>role (tasks)</th>")
                        .append("<th>state</th><th>exit code</th><th>message</th><th>reported</th></tr></thead><tbody>\n");
                for (Map<String, Object> r : reports) {
                    String state = text(r.get("state"));
                    b.append("<tr class=\"instance\"><td>").append(esc(r.get("instanceId"))).append("</td><td>")
                            .append(esc(r.get("provider"))).append("</td><td>").append(tasks(r.get("tasks")))
                            .append("</td><td class=\"").append(esc(state.replaceAll("[^a-z-]", ""))).append("\">")
                            .append(esc(state)).append("</td><td>").append(esc(r.get("exitCode"))).append("</td><td>")
                            .append(esc(r.get("message"))).append("</td><td>").append(esc(r.get("receivedAt")))
                            .append("</td></tr>\n");
                }
                b.append("</tbody></table>\n");
            }
            return b.append("<p><a href=\"status.json\">status.json</a></p></body></html>\n").toString();
        }

        private static String tasks(Object tasks) {
            if (!(tasks instanceof List<?> list)) {
                return "";
            }
            StringBuilder b = new StringBuilder();
            for (Object t : list) {
                if (t instanceof Map<?, ?> m) {
                    b.append(esc(m.get("name"))).append(": ").append(esc(m.get("state")))
                            .append(m.get("exitCode") == null ? "" : " (exit " + esc(m.get("exitCode")) + ")");
                    if (m.get("output") instanceof List<?> lines && !lines.isEmpty()) {
                        b.append("<pre>");
                        lines.forEach(l -> b.append(esc(l)).append('\n'));
                        b.append("</pre>");
                    }
                    b.append("<br>");
                }
            }
            return b.toString();
        }

        private static String text(Object o) {
            return o == null ? "" : String.valueOf(o);
        }

        static String esc(Object o) {
            return Html.esc(text(o));
        }
    }
}
