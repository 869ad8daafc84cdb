package dev.whatami.server;

import dev.whatami.emulator.EmulatorExchange;
import dev.whatami.emulator.EmulatorRequest;
import dev.whatami.emulator.MetadataService;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EofException;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.component.Graceful;

/**
 * Serves a {@code metadata-emulator} {@link MetadataService} from Jetty, on the paths of the clouds it plays; other
 * paths are left to the next handler. Blocking, as faults hold requests. A connection an injected fault cuts ends as
 * a quiet EOF, not a logged failure; stopping the server releases the requests a fault holds.
 */
final class MetadataHandler extends Handler.Abstract implements Graceful {
    private final MetadataService service;

    MetadataHandler(MetadataService service) {
        super(InvocationType.BLOCKING);
        this.service = service;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String path = Request.getPathInContext(request);
        if (!service.handles(path)) {
            return false;
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (HttpField f : request.getHeaders()) {
            headers.computeIfAbsent(f.getName(), k -> new ArrayList<>()).add(f.getValue());
        }
        EmulatorRequest r = new EmulatorRequest(request.getMethod(), path,
                Optional.ofNullable(request.getHttpURI().getQuery()), headers, Request.getRemoteAddr(request));
        JettyExchange exchange = new JettyExchange(request, response);
        service.serve(r, exchange);
        if (exchange.aborted) {
            callback.failed(new EofException("connection cut by an injected fault")); // quiet: an EOF
        } else {
            callback.succeeded();
        }
        return true;
    }

    /** Stopping the server releases requests a fault holds, rather than waiting out the graceful period. */
    @Override
    public CompletableFuture<Void> shutdown() {
        service.close();
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public boolean isShutdown() {
        return false;
    }

    /** Stopping without a graceful period releases them too, before Jetty waits for its threads. */
    @Override
    protected void doStop() throws Exception {
        service.close();
        super.doStop();
    }

    private static final class JettyExchange implements EmulatorExchange {
        private final Request request;
        private final Response response;
        private OutputStream body;
        boolean aborted;

        JettyExchange(Request request, Response response) {
            this.request = request;
            this.response = response;
        }

        @Override
        public void sendHead(int status, List<Map.Entry<String, String>> headers, long contentLength) {
            response.setStatus(status);
            headers.forEach(h -> response.getHeaders().add(h.getKey(), h.getValue()));
            if (contentLength >= 0) {
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, contentLength);
            }
        }

        @Override
        public OutputStream body() {
            if (body == null) {
                body = Content.Sink.asOutputStream(response);
            }
            return body;
        }

        @Override
        public void abort() {
            aborted = true;
            request.getConnectionMetaData().getConnection().getEndPoint().close();
        }
    }
}
