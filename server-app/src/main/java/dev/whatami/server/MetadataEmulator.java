package dev.whatami.server;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

/**
 * An EC2-compatible instance metadata service (IMDS): {@code PUT /latest/api/token},
 * {@code /latest/user-data}, {@code /latest/meta-data/…} and the instance identity document, with IMDSv2
 * optional or required. The whatami server mounts it with {@code --metadata-user-data}; other projects can
 * use it in their own tests:
 *
 * <pre>{@code
 * try (MetadataEmulator.Running imds = MetadataEmulator.builder().userData("collector.pl 10.0.0.1")
 *         .imdsV2Required(true).build().start()) {
 *     URI endpoint = imds.endpoint(); // http://127.0.0.1:<ephemeral port>
 * }
 * }</pre>
 *
 * Thread-safe.
 */
public final class MetadataEmulator {
    static final String TOKEN_HEADER = "X-aws-ec2-metadata-token";
    static final String TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds";
    private static final int MAX_TTL = 21600;

    private final Optional<byte[]> userData;
    private final String instanceId;
    private final String zone;
    private final String localIpv4;
    private final boolean imdsV2Required;
    private final boolean instanceIdPerClient;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Instant> tokens = new ConcurrentHashMap<>();
    private final Faults faults = new Faults();

    private MetadataEmulator(Builder b) {
        this.userData = b.userData;
        this.instanceId = b.instanceId;
        this.zone = b.zone;
        this.localIpv4 = b.localIpv4;
        this.imdsV2Required = b.imdsV2Required;
        this.instanceIdPerClient = b.instanceIdPerClient;
        this.clock = b.clock;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Faults to inject into the next answers; change them while the emulator runs. */
    public Faults faults() {
        return faults;
    }

    /**
     * Fault injection, for clients' tests: slow answers, error statuses, dropped connections, and a token request
     * that never answers (what an instance with too low a hop limit sees from a container). Thread-safe.
     */
    public static final class Faults {
        private volatile Duration delay = Duration.ZERO;
        private final java.util.concurrent.atomic.AtomicInteger failures = new java.util.concurrent.atomic.AtomicInteger();
        private volatile int failureStatus = 500;
        private final java.util.concurrent.atomic.AtomicInteger drops = new java.util.concurrent.atomic.AtomicInteger();
        private volatile boolean hangTokens;

        /** Every answer waits this long first. Default: none. */
        public Faults delay(Duration d) {
            this.delay = java.util.Objects.requireNonNull(d);
            return this;
        }

        /** The next {@code n} requests get {@code status} (e.g. 500, 503, 429) instead of their answer. */
        public Faults failNext(int n, int status) {
            this.failureStatus = status;
            failures.set(n);
            return this;
        }

        /** The next {@code n} requests have their connection closed without an answer. */
        public Faults dropNext(int n) {
            drops.set(n);
            return this;
        }

        /** Token requests ({@code PUT /latest/api/token}) are accepted and never answered. */
        public Faults hangTokenRequests(boolean hang) {
            this.hangTokens = hang;
            return this;
        }

        /** No faults. */
        public Faults clear() {
            delay = Duration.ZERO;
            failures.set(0);
            drops.set(0);
            hangTokens = false;
            return this;
        }

        private static boolean take(java.util.concurrent.atomic.AtomicInteger counter) {
            return counter.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0;
        }
    }

    /** Whether requests without a token are refused (401). */
    public boolean imdsV2Required() {
        return imdsV2Required;
    }

    /** The emulator as a Jetty handler, to mount beside others; it answers {@code /latest/…} only. */
    public Handler handler() {
        return new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                return MetadataEmulator.this.handle(request, response, callback);
            }
        };
    }

    private boolean handle(Request request, Response response, Callback callback) throws Exception {
        String path = Request.getPathInContext(request);
        if (!path.startsWith("/latest/")) {
            return false;
        }
        String method = request.getMethod();
        if (!faults.delay.isZero()) {
            Thread.sleep(faults.delay.toMillis());
        }
        if (Faults.take(faults.drops)) {
            request.getConnectionMetaData().getConnection().getEndPoint().close();
            callback.failed(new java.io.IOException("connection dropped by fault injection"));
            return true;
        }
        if (Faults.take(faults.failures)) {
            return text(response, callback, faults.failureStatus, "injected fault\n");
        }
        if (path.equals("/latest/api/token") && faults.hangTokens) {
            return true; // never answered: the callback is completed only when the server stops
        }
        if (path.equals("/latest/api/token")) {
            if (!method.equals("PUT")) {
                response.getHeaders().put(HttpHeader.ALLOW, "PUT");
                return text(response, callback, 405, "the token is made with PUT\n");
            }
            return issueToken(request, response, callback);
        }
        if (!method.equals("GET") && !method.equals("HEAD")) {
            response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
            return text(response, callback, 405, "metadata is read with GET\n");
        }
        String token = request.getHeaders().get(TOKEN_HEADER);
        if (token != null ? !validToken(token) : imdsV2Required) {
            return text(response, callback, 401, "");
        }
        return switch (path) {
            case "/latest/user-data" -> userData.isPresent()
                    ? bytes(response, callback, 200, "application/octet-stream", userData.get())
                    : text(response, callback, 404, "");
            case "/latest/meta-data", "/latest/meta-data/" -> text(response, callback, 200,
                    "ami-id\nhostname\ninstance-id\ninstance-type\nlocal-hostname\nlocal-ipv4\nplacement/");
            case "/latest/meta-data/instance-id" -> text(response, callback, 200, instanceId(request));
            case "/latest/meta-data/ami-id" -> text(response, callback, 200, "ami-whatami0000000");
            case "/latest/meta-data/instance-type" -> text(response, callback, 200, "t3.micro");
            case "/latest/meta-data/hostname", "/latest/meta-data/local-hostname" -> text(response, callback, 200,
                    "ip-" + localIpv4.replace('.', '-') + ".ec2.internal");
            case "/latest/meta-data/local-ipv4" -> text(response, callback, 200, localIpv4);
            case "/latest/meta-data/placement", "/latest/meta-data/placement/" -> text(response, callback, 200,
                    "availability-zone\nregion");
            case "/latest/meta-data/placement/availability-zone" -> text(response, callback, 200, zone);
            case "/latest/meta-data/placement/region" -> text(response, callback, 200, region());
            case "/latest/dynamic/instance-identity/document" -> identityDocument(response, callback);
            default -> text(response, callback, 404, "");
        };
    }

    /** With {@link Builder#instanceIdPerClient}, every client address is an instance of its own. */
    private String instanceId(Request request) {
        if (!instanceIdPerClient) {
            return instanceId;
        }
        String addr = Request.getRemoteAddr(request);
        return instanceId + "-" + addr.replaceAll("[^0-9A-Za-z]", "-");
    }

    private String region() {
        return zone.substring(0, zone.length() - 1);
    }

    private boolean issueToken(Request request, Response response, Callback callback) {
        if (request.getHeaders().get(HttpHeader.X_FORWARDED_FOR) != null) {
            return text(response, callback, 403, ""); // as EC2: tokens are not handed through proxies
        }
        String ttlText = request.getHeaders().get(TTL_HEADER);
        int ttl;
        try {
            ttl = ttlText == null ? -1 : Integer.parseInt(ttlText.strip());
        } catch (NumberFormatException e) {
            ttl = -1;
        }
        if (ttl < 1 || ttl > MAX_TTL) {
            return text(response, callback, 400, "give " + TTL_HEADER + " between 1 and " + MAX_TTL + "\n");
        }
        byte[] raw = new byte[32];
        random.nextBytes(raw);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        Instant now = clock.instant();
        tokens.values().removeIf(exp -> exp.isBefore(now));
        tokens.put(token, now.plusSeconds(ttl));
        response.getHeaders().put(TTL_HEADER, Integer.toString(ttl));
        return text(response, callback, 200, token);
    }

    private boolean validToken(String token) {
        Instant expiry = tokens.get(token);
        return expiry != null && clock.instant().isBefore(expiry);
    }

    private boolean identityDocument(Response response, Callback callback) throws IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("accountId", "000000000000");
        doc.put("architecture", "x86_64");
        doc.put("availabilityZone", zone);
        doc.put("imageId", "ami-whatami0000000");
        doc.put("instanceId", instanceId);  // per-client ids are reported at meta-data/instance-id only
        doc.put("instanceType", "t3.micro");
        doc.put("privateIp", localIpv4);
        doc.put("region", region());
        doc.put("version", "2017-09-30");
        byte[] json = JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT).asBytes(doc);
        return bytes(response, callback, 200, "application/json", json);
    }

    private static boolean text(Response response, Callback callback, int status, String body) {
        return bytes(response, callback, status, "text/plain", body.getBytes(StandardCharsets.UTF_8));
    }

    private static boolean bytes(Response response, Callback callback, int status, String type, byte[] body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
        return true;
    }

    /**
     * Starts this emulator alone on an ephemeral loopback port.
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

    /** Builds a {@link MetadataEmulator}. Not thread-safe. */
    public static final class Builder {
        private Optional<byte[]> userData = Optional.empty();
        private String instanceId = "i-0123456789abcdef0";
        private String zone = "us-east-1a";
        private String localIpv4 = "127.0.0.1";
        private boolean imdsV2Required;
        private boolean instanceIdPerClient;
        private Clock clock = Clock.systemUTC();

        private Builder() {
        }

        /** The user-data to serve. Default: none (404, as EC2 answers when none was given). */
        public Builder userData(byte[] userData) {
            this.userData = Optional.of(userData.clone());
            return this;
        }

        /** The user-data to serve, as UTF-8 text. */
        public Builder userData(String userData) {
            return userData(userData.getBytes(StandardCharsets.UTF_8));
        }

        /** Default: {@code i-0123456789abcdef0}. */
        public Builder instanceId(String id) {
            if (id == null || id.isBlank() || !id.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                throw new IllegalArgumentException("instance id must be printable ASCII without spaces, got \"" + id
                        + "\"");
            }
            this.instanceId = id;
            return this;
        }

        /** Availability zone; the region is it without the last letter. Default: {@code us-east-1a}. */
        public Builder availabilityZone(String zone) {
            this.zone = Objects.requireNonNull(zone);
            return this;
        }

        /** Default: {@code 127.0.0.1}. */
        public Builder localIpv4(String ip) {
            this.localIpv4 = Objects.requireNonNull(ip);
            return this;
        }

        /**
         * Give each client address its own instance id ({@code <id>-<address>}), so one emulator can stand for a
         * whole fleet (many containers booting at once). Default: false.
         */
        public Builder instanceIdPerClient(boolean perClient) {
            this.instanceIdPerClient = perClient;
            return this;
        }

        /** Refuse requests without a token (401), like an instance with IMDSv2 required. Default: false. */
        public Builder imdsV2Required(boolean required) {
            this.imdsV2Required = required;
            return this;
        }

        /** Time source for token expiry. Default: the system UTC clock. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock);
            return this;
        }

        public MetadataEmulator build() {
            return new MetadataEmulator(this);
        }
    }
}
