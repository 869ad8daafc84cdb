package dev.whatami.emulator;

import dev.whatami.emulator.internal.LoopbackServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Optional;

/**
 * Cloud metadata services on loopback, for tests: a {@link MetadataService} served on an ephemeral port of
 * {@code 127.0.0.1}, like OkHttp's {@code MockWebServer}. Clients cannot tell it from the real services on the paths
 * they use; faults can be injected while it runs.
 *
 * <pre>{@code
 * try (MetadataEmulator imds = MetadataEmulator.builder().userData("collector.pl 10.0.0.1")
 *         .imdsV2Required(true).start()) {
 *     URI endpoint = imds.endpoint();               // http://127.0.0.1:<port>
 *     imds.faults().failNext(2, 503);
 *     ...
 * }
 * }</pre>
 *
 * Thread-safe. Closing it stops the server, releases every request a fault holds and resets open connections.
 * It depends on SLF4J's API and jackson-jr alone and logs nothing above debug.
 */
public final class MetadataEmulator implements AutoCloseable {
    private final MetadataService service;
    private final LoopbackServer server;
    private final URI endpoint;

    private MetadataEmulator(MetadataService service, LoopbackServer server) {
        this.service = service;
        this.server = server;
        this.endpoint = URI.create("http://127.0.0.1:" + server.port());
    }

    /** A builder for the service to serve; {@link MetadataService.Builder#start()} starts it. */
    public static MetadataService.Builder builder() {
        return MetadataService.builder();
    }

    /**
     * Serves {@code service} on an ephemeral port of 127.0.0.1. The emulator closes the service when it closes.
     *
     * @throws UncheckedIOException when no port can be bound
     */
    public static MetadataEmulator start(MetadataService service) {
        try {
            return new MetadataEmulator(service, new LoopbackServer(service));
        } catch (IOException e) {
            throw new UncheckedIOException("could not start the metadata emulator on 127.0.0.1: " + e.getMessage(), e);
        }
    }

    /** For example {@code http://127.0.0.1:41234}: the base URI to give a client as its metadata endpoint. */
    public URI endpoint() {
        return endpoint;
    }

    /** The port it listens on. */
    public int port() {
        return server.port();
    }

    /** The address it listens on. */
    public InetSocketAddress address() {
        return new InetSocketAddress("127.0.0.1", server.port());
    }

    /** The service it serves. */
    public MetadataService service() {
        return service;
    }

    /** The faults in force; change them while it runs. */
    public Faults faults() {
        return service.faults();
    }

    /** Every request seen so far, oldest first. */
    public List<EmulatorRequest> requests() {
        return service.requests();
    }

    /** How many requests with this method and path were seen. */
    public long requestCount(String method, String path) {
        return service.requestCount(method, path);
    }

    /** The EC2 role's current credentials; empty without a role. */
    public Optional<IssuedCredentials> ec2Credentials() {
        return service.ec2Credentials();
    }

    @Override
    public void close() {
        service.close();
        server.close();
    }

    @Override
    public String toString() {
        return "MetadataEmulator[" + endpoint + ", " + service.clouds() + "]";
    }
}
