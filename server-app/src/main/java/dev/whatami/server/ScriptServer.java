package dev.whatami.server;

import dev.whatami.emulator.MetadataService;
import dev.whatami.server.access.ReadAccess;
import dev.whatami.server.access.SlowClientGuard;
import dev.whatami.server.access.TlsFiles;
import dev.whatami.server.files.HiddenPathGuard;
import dev.whatami.server.files.ScriptFiles;
import dev.whatami.server.files.StaleFiles;
import dev.whatami.server.files.UploadHandler;
import dev.whatami.server.files.ZeroCopyEndPoint;
import dev.whatami.server.metrics.ServerMetrics;
import dev.whatami.server.pages.ErrorPages;
import dev.whatami.server.reports.ReportHandlers;
import dev.whatami.server.reports.ReportStore;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.MimeTypes;
import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SocketChannelEndPoint;
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
 * {@code www/scriptserver} layout), {@code /healthz}, and optionally a metadata emulator ({@link MetadataService}) on
 * the same port. Files are served by Jetty's own {@link ResourceHandler}: ETag, Last-Modified, conditional requests,
 * byte ranges and content types come from it, not from code here.
 */
public final class ScriptServer implements AutoCloseable {
    private final Server server;
    private final ServerConnector connector;
    private final Path root;
    private final String scheme;
    private final SlowClientGuard guard;
    private final ServerMetrics metrics;
    private final java.time.Clock clock;

    /**
     * Selector threads: one per core, as nginx has a worker per core. Reads of scripts are served on the selector
     * thread that read the request ({@link Dispatch}), so the selectors are the threads that do the work; Jetty's
     * default (half the cores) would leave the other half to the thread pool's hand-offs.
     */
    static final int SELECTORS = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), 32));

    /**
     * Connections the kernel completes before the server accepts them (the listen backlog; the kernel caps it at
     * {@code net.core.somaxconn}). The JDK's default is 50: 1,000 clients connecting at once overflowed it, and the
     * ones dropped retried their SYN a second later, or timed out. nginx asks for 511.
     */
    static final int ACCEPT_QUEUE = 1024;

    /** Request bodies (uploads, reports) must arrive at least this fast, in bytes per second. */
    static final long MIN_REQUEST_DATA_RATE = 1024;

    private ScriptServer(Builder b) {
        this.root = b.root;
        this.clock = b.clock;
        this.server = new Server();
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendDateHeader(true);
        http.setRequestHeaderSize(8192); // bounded headers
        if (b.keyStore.isPresent()) {
            http.addCustomizer(new org.eclipse.jetty.server.SecureRequestCustomizer());
            org.eclipse.jetty.util.ssl.SslContextFactory.Server tls = new org.eclipse.jetty.util.ssl.SslContextFactory.Server();
            tls.setKeyStore(b.keyStore.get());
            tls.setKeyStorePassword(b.keyStorePassword);
            HttpConnectionFactory h1 = new HttpConnectionFactory(http);
            org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory h2 =
                    new org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory(http);
            org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory alpn =
                    new org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory();
            alpn.setDefaultProtocol(h1.getProtocol());
            this.connector = new ServerConnector(server, -1, SELECTORS, new org.eclipse.jetty.server.SslConnectionFactory(tls,
                    alpn.getProtocol()), alpn, h2, h1);
            this.scheme = "https";
        } else {
            // HTTP/1.1, and HTTP/2 without TLS (h2c) for clients that ask
            this.connector = new ServerConnector(server, -1, SELECTORS, new HttpConnectionFactory(http),
                    new org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory(http)) {
                @Override
                protected SocketChannelEndPoint newEndPoint(SocketChannel channel, ManagedSelector selector,
                        SelectionKey key) {
                    // larger scripts go out with sendfile (ZeroCopyEndPoint), as nginx sends them
                    ZeroCopyEndPoint endPoint = new ZeroCopyEndPoint(channel, selector, key, getScheduler());
                    endPoint.setIdleTimeout(getIdleTimeout());
                    return endPoint;
                }
            };
            this.scheme = "http";
        }
        connector.setHost(b.bind);
        connector.setPort(b.port);
        connector.setIdleTimeout(b.idleTimeout.toMillis()); // slow clients (slowloris) are cut off
        connector.setAcceptQueueSize(ACCEPT_QUEUE);
        server.addConnector(connector);
        org.eclipse.jetty.server.NetworkConnectionLimit limit =
                new org.eclipse.jetty.server.NetworkConnectionLimit(b.maxConnections, server);
        server.addBean(limit);
        this.guard = new SlowClientGuard(b.headerTimeout, b.busyGrace, MIN_REQUEST_DATA_RATE, limit,
                connector.getScheduler());
        connector.addBean(guard); // a Connection.Listener: told of every connection opened and closed
        server.setErrorHandler(new ErrorPages());
        b.accessLog.ifPresent(target -> server.setRequestLog(new org.eclipse.jetty.server.CustomRequestLog(
                target.equals("-") ? new org.eclipse.jetty.server.Slf4jRequestLogWriter()
                        : new org.eclipse.jetty.server.RequestLogWriter(target),
                org.eclipse.jetty.server.CustomRequestLog.NCSA_FORMAT)));

        ResourceHandler files = new ScriptFiles(b.root, b.list);
        files.setBaseResource(ResourceFactory.of(server).newResource(b.root));
        files.setDirAllowed(false); // listings are ScriptFiles' own, which show only what can be served
        files.setAcceptRanges(true);
        files.setEtags(true);
        // caches in front (nginx proxy_cache, a CDN) may keep a script but must ask each time whether it is still
        // current: with the strong ETag that costs a 304, and a replaced script is never served stale
        files.setCacheControl("no-cache");
        files.setWelcomeFiles(List.of());
        ContextHandler scripts = new ContextHandler(new HiddenPathGuard(new UploadHandler(files, b.root, b.uploadToken,
                b.maxUpload)), "/scriptserver");
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
        b.metadata.map(MetadataHandler::new).ifPresent(handlers::add);
        this.metrics = new ServerMetrics(limit::getNetworkConnectionCount, b.reports);
        b.reports.ifPresent(store -> handlers.add(new ReportHandlers(store, b.reportToken, metrics::report)));
        handlers.add(new Health());
        // graceful shutdown: in-flight requests (downloads) get up to 10 s to finish, new ones are refused
        server.setHandler(new Dispatch(guard.handler(metrics.handler(
                new org.eclipse.jetty.server.handler.GracefulHandler(new Handler.Sequence(handlers)),
                new ReadAccess(b.readToken, b.publicStatus)))));
        server.setStopTimeout(10_000);
    }

    public static Builder builder(Path root) {
        return new Builder(root);
    }

    /** Starts listening. */
    public ScriptServer start() throws Exception {
        StaleFiles.clean(root, UploadHandler::isTempName, StaleFiles.ABANDONED, clock);
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
        return URI.create(scheme + "://" + host + ":" + connector.getLocalPort());
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

    /**
     * Where each request runs. {@code GET} and {@code HEAD} of the scripts never wait on anything but the file system
     * (a {@code stat}, and a read of a small file the first time it is asked for — as Jetty's own file copying and
     * nginx's event loop do), so they run on the selector thread that read the request: no hand-off to another
     * thread, no wake-up, no context switch. Everything else (uploads, reports, the status page, the metadata
     * emulator's held requests) may block, and runs on the thread pool.
     *
     * <p>Declaring the handler tree {@code NON_BLOCKING} is what lets Jetty call it from the selector; the promise
     * holds because only {@link #inline} requests are handled on the calling thread.
     */
    static final class Dispatch extends Handler.Wrapper {
        Dispatch(Handler next) {
            super(next);
        }

        @Override
        public InvocationType getInvocationType() {
            return InvocationType.NON_BLOCKING;
        }

        /** Served where they were read: reads of scripts. */
        static boolean inline(Request request) {
            String method = request.getMethod();
            return (HttpMethod.GET.is(method) || HttpMethod.HEAD.is(method))
                    && request.getHttpURI().getPath().startsWith("/scriptserver/");
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            if (inline(request)) {
                return super.handle(request, response, callback);
            }
            request.getContext().execute(() -> {
                try {
                    if (!super.handle(request, response, callback)) {
                        Response.writeError(request, response, callback, 404);
                    }
                } catch (Throwable x) {
                    callback.failed(x); // as Jetty does for a handler that throws: a 500, or the connection closed
                }
            });
            return true;
        }
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
        private Optional<MetadataService> metadata = Optional.empty();
        private Optional<ReportStore> reports = Optional.empty();
        private Optional<String> reportToken = Optional.empty();
        private Optional<String> uploadToken = Optional.empty();
        private Optional<String> readToken = Optional.empty();
        private boolean publicStatus;
        private long maxUpload = 64L << 20;
        private Optional<java.security.KeyStore> keyStore = Optional.empty();
        private String keyStorePassword = TlsFiles.PASSWORD;
        private Optional<String> accessLog = Optional.empty();
        private int maxConnections = 10_000;
        private java.time.Duration idleTimeout = java.time.Duration.ofSeconds(30);
        private java.time.Duration headerTimeout = java.time.Duration.ofSeconds(10);
        private java.time.Duration busyGrace = java.time.Duration.ofSeconds(1);
        private java.time.Clock clock = java.time.Clock.systemUTC();

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

        /**
         * Also answer as the cloud metadata services {@code service} plays (for EC2 the {@code /latest/…} paths), with
         * its faults; stopping the server releases the requests a fault holds. Default: off.
         */
        public Builder metadataService(MetadataService service) {
            this.metadata = Optional.of(Objects.requireNonNull(service, "service"));
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

        /**
         * Require this token to read {@code /status}, {@code /status.json} and {@code /metrics}: {@code Authorization:
         * Bearer <token>}, or a browser's password prompt (Basic, any user name, the token as password). Default: none;
         * then those pages answer loopback clients only, unless {@link #publicStatus}.
         */
        public Builder readToken(String token) {
            if (token.length() < 8) {
                throw new IllegalArgumentException("the read token must be at least 8 characters");
            }
            this.readToken = Optional.of(token);
            return this;
        }

        /**
         * Without a {@link #readToken}, let anyone who reaches the server read the status pages and metrics (instance
         * ids, addresses, output tails). Default: off, loopback clients only.
         */
        public Builder publicStatus(boolean on) {
            this.publicStatus = on;
            return this;
        }

        /** Accept PUT/DELETE of scripts with {@code Authorization: Bearer <token>}. Default: uploads off (405). */
        public Builder uploadToken(String token) {
            if (token.length() < 8) {
                throw new IllegalArgumentException("the upload token must be at least 8 characters");
            }
            this.uploadToken = Optional.of(token);
            return this;
        }

        /** Largest upload. Default: 64 MiB. */
        public Builder maxUpload(long bytes) {
            this.maxUpload = bytes;
            return this;
        }

        /** Serve https (HTTP/1.1 and HTTP/2 by ALPN) with this key store. Default: plain http (and h2c). */
        public Builder tls(java.security.KeyStore store, String password) {
            this.keyStore = Optional.of(store);
            this.keyStorePassword = password;
            return this;
        }

        /** Common Log Format access log to this file, or "-" for the server's log. Default: none. */
        public Builder accessLog(String target) {
            this.accessLog = Optional.of(target);
            return this;
        }

        /** Most simultaneous connections; more wait in the accept queue. Default: 10,000. */
        public Builder maxConnections(int max) {
            this.maxConnections = max;
            return this;
        }

        /** A connection silent this long is closed. Default: 30 s. */
        public Builder idleTimeout(java.time.Duration d) {
            this.idleTimeout = d;
            return this;
        }

        /**
         * A request's headers must be complete this long after the connection opened (or, kept alive, after its
         * next request began to arrive); later, it is answered 408 and closed. Default: 10 s.
         */
        public Builder headerTimeout(java.time.Duration d) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("the header timeout must be positive, got " + d);
            }
            this.headerTimeout = d;
            return this;
        }

        /**
         * At {@link #maxConnections}, a connection that has had no complete request for this long is closed to make
         * room for the clients waiting to connect. Default: 1 s.
         */
        public Builder busyGrace(java.time.Duration d) {
            this.busyGrace = java.util.Objects.requireNonNull(d);
            return this;
        }

        /** The clock that dates abandoned temp files. Default: the system clock. */
        public Builder clock(java.time.Clock clock) {
            this.clock = java.util.Objects.requireNonNull(clock);
            return this;
        }

        public ScriptServer build() {
            return new ScriptServer(this);
        }
    }
}
