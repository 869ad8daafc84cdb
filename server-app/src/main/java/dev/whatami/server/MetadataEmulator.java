package dev.whatami.server;

import dev.whatami.emulator.EmulatorExchange;
import dev.whatami.emulator.EmulatorRequest;
import dev.whatami.emulator.Faults;
import dev.whatami.emulator.MetadataService;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EofException;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.component.Graceful;

/**
 * The EC2 metadata emulator the whatami server mounts for {@code --metadata-user-data…}: a thin Jetty 12 adapter over
 * {@code dev.whatami.emulator}'s {@link MetadataService}, so the server answers exactly as the test artifact does
 * (IMDSv2 tokens, user-data, the meta-data tree, the identity document, faults). For your own tests use the
 * {@code metadata-emulator} artifact directly; this class stays for the server and its callers.
 *
 * <pre>{@code
 * MetadataEmulator emulator = MetadataEmulator.builder().userData("collector.pl 10.0.0.1").build();
 * ScriptServer.builder(root).metadataEmulator(emulator)...
 * }</pre>
 *
 * Thread-safe.
 */
public final class MetadataEmulator {
    private final MetadataService service;

    private MetadataEmulator(MetadataService service) {
        this.service = service;
    }

    /** A builder for an EC2 emulator. */
    public static Builder builder() {
        return new Builder();
    }

    /** Mounts an emulator built with {@code dev.whatami.emulator}'s own builder (any of its clouds). */
    public static MetadataEmulator of(MetadataService service) {
        return new MetadataEmulator(service);
    }

    /** The logic served. */
    public MetadataService service() {
        return service;
    }

    /** Faults to inject into the next answers; change them while the server runs. */
    public Faults faults() {
        return service.faults();
    }

    /** Whether requests without a token are refused (401). */
    public boolean imdsV2Required() {
        return service.imdsV2Required();
    }

    /** The emulator as a Jetty handler, to mount beside others; it answers the emulated clouds' paths only. */
    public Handler handler() {
        return new JettyAdapter(service);
    }

    /** Serves a {@link MetadataService} from Jetty; blocking, as faults hold requests. */
    private static final class JettyAdapter extends Handler.Abstract implements Graceful {
        private final MetadataService service;

        JettyAdapter(MetadataService service) {
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
                headers.computeIfAbsent(f.getName(), k -> new java.util.ArrayList<>()).add(f.getValue());
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
                response.getHeaders().put(org.eclipse.jetty.http.HttpHeader.CONTENT_LENGTH, contentLength);
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

    /**
     * Starts this emulator alone on an ephemeral loopback port, in Jetty (as the server serves it).
     *
     * @throws IllegalStateException when it cannot start
     */
    public Running start() {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(handler());
        try {
            server.start();
        } catch (Exception e) {
            throw new IllegalStateException("could not start the metadata emulator on 127.0.0.1: " + e.getMessage(),
                    e);
        }
        return new Running(server, URI.create("http://127.0.0.1:" + connector.getLocalPort()));
    }

    /** An emulator started by {@link #start()}; close it to stop it. */
    public static final class Running implements AutoCloseable {
        private final Server server;
        private final URI endpoint;

        private Running(Server server, URI endpoint) {
            this.server = server;
            this.endpoint = endpoint;
        }

        /** For example {@code http://127.0.0.1:41234}; give it to a client as its metadata endpoint. */
        public URI endpoint() {
            return endpoint;
        }

        public InetSocketAddress address() {
            return new InetSocketAddress(endpoint.getHost(), endpoint.getPort());
        }

        @Override
        public void close() {
            try {
                server.stop();
            } catch (Exception e) {
                throw new IllegalStateException("could not stop the metadata emulator: " + e.getMessage(), e);
            }
        }
    }

    /** Builds an EC2 {@link MetadataEmulator}. Not thread-safe. */
    public static final class Builder {
        private final MetadataService.Builder b = MetadataService.builder();

        private Builder() {
        }

        /** The user-data to serve. Default: none (404, as EC2 answers when none was given). */
        public Builder userData(byte[] userData) {
            b.userData(userData);
            return this;
        }

        /** The user-data to serve, as UTF-8 text. */
        public Builder userData(String userData) {
            b.userData(userData);
            return this;
        }

        /** Default: {@code i-0123456789abcdef0}. */
        public Builder instanceId(String id) {
            b.instanceId(id);
            return this;
        }

        /** Availability zone; the region is it without the last letter. Default: {@code us-east-1a}. */
        public Builder availabilityZone(String zone) {
            b.availabilityZone(zone);
            return this;
        }

        /** Default: {@code 127.0.0.1}. */
        public Builder localIpv4(String ip) {
            b.localIpv4(ip);
            return this;
        }

        /**
         * Give each client address its own instance id ({@code <id>-<address>}), so one emulator can stand for a
         * whole fleet (many containers booting at once). Default: false.
         */
        public Builder instanceIdPerClient(boolean perClient) {
            b.instanceIdPerClient(perClient);
            return this;
        }

        /** Refuse requests without a token (401), like an instance with IMDSv2 required. Default: false. */
        public Builder imdsV2Required(boolean required) {
            b.imdsV2Required(required);
            return this;
        }

        /** Time source for token expiry. Default: the system UTC clock. */
        public Builder clock(Clock clock) {
            b.clock(clock);
            return this;
        }

        public MetadataEmulator build() {
            return new MetadataEmulator(b.build());
        }
    }
}
