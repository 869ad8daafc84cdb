package dev.whatami.server;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.MimeTypes;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.AllowedResourceAliasChecker;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.server.handler.ResourceHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.resource.ResourceFactory;

/**
 * The file server: {@code GET/HEAD /scriptserver/<file>} from a root directory (the seed's
 * {@code www/scriptserver} layout), {@code /healthz}, and optionally the EC2 metadata emulator on the same
 * port. Files are served by Jetty's own {@link ResourceHandler}: ETag, Last-Modified, conditional requests,
 * byte ranges and content types come from it, not from code here.
 */
public final class ScriptServer implements AutoCloseable {
    private final Server server;
    private final ServerConnector connector;
    private final Path root;

    private ScriptServer(Builder b) {
        this.root = b.root;
        this.server = new Server();
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendDateHeader(true);
        this.connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(b.bind);
        connector.setPort(b.port);
        connector.setIdleTimeout(30_000);
        server.addConnector(connector);

        ResourceHandler files = new ResourceHandler();
        files.setBaseResource(ResourceFactory.of(server).newResource(b.root));
        files.setDirAllowed(b.list);
        files.setAcceptRanges(true);
        files.setEtags(true);
        files.setWelcomeFiles(List.of());
        ContextHandler scripts = new ContextHandler(new HiddenPathGuard(files), "/scriptserver");
        scripts.setBaseResource(files.getBaseResource());
        // symlinks are followed only while they stay inside the root
        scripts.clearAliasChecks();
        scripts.addAliasCheck(new AllowedResourceAliasChecker(scripts));
        MimeTypes.Mutable types = scripts.getMimeTypes();
        types.addMimeMapping("sh", "text/x-shellscript;charset=utf-8");
        types.addMimeMapping("pl", "text/x-perl;charset=utf-8");
        types.addMimeMapping("py", "text/x-python;charset=utf-8");
        types.addMimeMapping("sig", "text/plain;charset=utf-8");
        files.setMimeTypes(types);

        List<Handler> handlers = new ArrayList<>();
        handlers.add(scripts);
        b.emulator.map(MetadataEmulator::handler).ifPresent(handlers::add);
        b.reports.ifPresent(store -> handlers.add(new ReportHandlers(store, b.reportToken)));
        handlers.add(new Health());
        server.setHandler(new Handler.Sequence(handlers));
        server.setStopTimeout(5_000);
    }

    public static Builder builder(Path root) {
        return new Builder(root);
    }

    /** Starts listening. */
    public ScriptServer start() throws Exception {
        server.start();
        return this;
    }

    /** The bound address; with port 0 the port the system chose. */
    public InetSocketAddress address() {
        return new InetSocketAddress(connector.getHost() == null ? "0.0.0.0" : connector.getHost(),
                connector.getLocalPort());
    }

    /** For example {@code http://127.0.0.1:8080}. */
    public URI uri() {
        String host = connector.getHost() == null || connector.getHost().equals("0.0.0.0") ? "127.0.0.1"
                : connector.getHost();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return URI.create("http://" + host + ":" + connector.getLocalPort());
    }

    public Path root() {
        return root;
    }

    /** Blocks until the server stops. */
    public void join() throws InterruptedException {
        server.join();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    /** {@code GET /healthz}: 200 "ok" while the server runs. */
    private static final class Health extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            if (!"/healthz".equals(Request.getPathInContext(request))) {
                return false;
            }
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
            response.write(true, ByteBuffer.wrap("ok\n".getBytes(StandardCharsets.US_ASCII)), callback);
            return true;
        }
    }

    /** Builds a {@link ScriptServer}. */
    public static final class Builder {
        private final Path root;
        private String bind = "0.0.0.0";
        private int port = 8080;
        private boolean list;
        private Optional<MetadataEmulator> emulator = Optional.empty();
        private Optional<ReportStore> reports = Optional.empty();
        private Optional<String> reportToken = Optional.empty();

        private Builder(Path root) {
            Objects.requireNonNull(root, "root");
            if (!Files.isDirectory(root)) {
                throw new IllegalArgumentException("the script root " + root.toAbsolutePath() + " is not a directory; "
                        + "create it (mkdir -p " + root + ") and put the scripts in it, or point --root at it");
            }
            this.root = root.toAbsolutePath().normalize();
        }

        /** Address to listen on. Default: all IPv4 addresses ({@code 0.0.0.0}). */
        public Builder bind(String address) {
            this.bind = Objects.requireNonNull(address);
            return this;
        }

        /** Port; 0 picks a free one. Default: 8080. */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0-65535, got " + port);
            }
            this.port = port;
            return this;
        }

        /** Serve directory listings. Default: off. */
        public Builder list(boolean list) {
            this.list = list;
            return this;
        }

        /** Also answer the EC2 metadata paths ({@code /latest/…}). Default: off. */
        public Builder metadataEmulator(MetadataEmulator emulator) {
            this.emulator = Optional.of(emulator);
            return this;
        }

        /** Accept {@code POST /reports} and serve {@code /status} and {@code /status.json}. Default: off. */
        public Builder reports(ReportStore store) {
            this.reports = Optional.of(store);
            return this;
        }

        /** Require {@code Authorization: Bearer <token>} on reports. Default: none required. */
        public Builder reportToken(String token) {
            this.reportToken = Optional.of(token);
            return this;
        }

        public ScriptServer build() {
            return new ScriptServer(this);
        }
    }
}
