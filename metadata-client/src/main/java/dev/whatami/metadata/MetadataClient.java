package dev.whatami.metadata;

import dev.whatami.metadata.internal.DefaultMetadataClient;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;

/**
 * Asks the metadata service "what am I?". Thread-safe. Close it when done; it closes the HTTP client only
 * if it built that client itself.
 *
 * <pre>{@code
 * try (MetadataClient client = MetadataClient.builder()
 *         .endpoint(URI.create("http://127.0.0.1:8080"))
 *         .build()) {
 *     Optional<byte[]> userData = client.userData();
 * }
 * }</pre>
 */
public interface MetadataClient extends AutoCloseable {
    /** The EC2 metadata service's IPv4 address. */
    URI EC2_DEFAULT_ENDPOINT = EndpointMode.IPV4.endpoint();

    /** Who this instance is. */
    InstanceIdentity identity();

    /** The instance's user-data, or empty when the provider says there is none (EC2 answers 404). */
    Optional<byte[]> userData();

    /** The provider this client talks to (detecting it first, when the builder was told to). */
    Provider provider();

    @Override
    void close();

    static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link MetadataClient}. Not thread-safe. */
    final class Builder {
        private Provider provider = Provider.EC2;
        private URI endpoint;
        private EndpointMode endpointMode = EndpointMode.IPV4;
        private boolean imdsV2Required;
        private boolean ec2Disabled;
        private Duration detectionTimeout = Duration.ofSeconds(10);
        private Path sysfsRoot = Path.of("/");
        private Duration tokenTtl = Duration.ofHours(6);
        private Duration connectTimeout = Duration.ofSeconds(1);
        private Duration readTimeout = Duration.ofSeconds(2);
        private Duration tokenTimeout = Duration.ofSeconds(1);
        private RetryPolicy retryPolicy = RetryPolicy.defaults();
        private Clock clock = Clock.systemUTC();
        private Sleeper sleeper = Sleeper.SYSTEM;
        private RandomGenerator random = new SplittableRandom(); // not RandomGenerator.getDefault(): a ServiceLoader scan at boot
        private CloseableHttpClient httpClient;
        private Path noCloudSource;

        private Builder() {
        }

        /** Which provider to ask. Default: {@link Provider#EC2}. */
        public Builder provider(Provider provider) {
            this.provider = Objects.requireNonNull(provider, "provider");
            return this;
        }

        /**
         * Find the provider on first use: the platform's DMI strings (and Xen's hypervisor uuid) first, then
         * probing EC2, GCE, Azure, OCI, DigitalOcean and Hetzner in that order until {@link #detectionTimeout}.
         */
        public Builder autoDetect() {
            this.provider = null;
            return this;
        }

        /** Where DMI is read from during detection; tests give a fake sysfs. Default: {@code /}. */
        public Builder sysfsRoot(Path root) {
            this.sysfsRoot = Objects.requireNonNull(root, "sysfsRoot");
            return this;
        }

        /** How long detection may probe before giving up (off-cloud). Default: 10 s. */
        public Builder detectionTimeout(Duration timeout) {
            this.detectionTimeout = positive(timeout, "detectionTimeout");
            return this;
        }

        /** EC2's IPv4 or IPv6 endpoint, when no {@link #endpoint} is given. Default: {@link EndpointMode#IPV4}. */
        public Builder endpointMode(EndpointMode mode) {
            this.endpointMode = Objects.requireNonNull(mode, "endpointMode");
            return this;
        }

        /** As {@code AWS_EC2_METADATA_DISABLED=true}: never ask EC2. Default: false. */
        public Builder ec2Disabled(boolean disabled) {
            this.ec2Disabled = disabled;
            return this;
        }

        /**
         * Base URI of the metadata service, e.g. {@code http://127.0.0.1:8080}; with {@link #autoDetect()} every
         * provider is probed there. Default: each provider's own ({@code http://169.254.169.254},
         * {@code http://[fd00:ec2::254]} in IPv6 mode, {@code http://metadata.google.internal} for GCE).
         */
        public Builder endpoint(URI endpoint) {
            Objects.requireNonNull(endpoint, "endpoint");
            String scheme = endpoint.getScheme();
            if (!"http".equalsIgnoreCase(scheme) && !"https".equalsIgnoreCase(scheme) || endpoint.getHost() == null) {
                throw new IllegalArgumentException("metadata endpoint must be an http or https URL with a host, "
                        + "e.g. http://127.0.0.1:8080; got " + endpoint);
            }
            this.endpoint = endpoint;
            return this;
        }

        /**
         * Refuse IMDSv1: fail instead of falling back when no token can be had (as
         * {@code AWS_EC2_METADATA_V1_DISABLED=true}). Default: false.
         */
        public Builder imdsV2Required(boolean required) {
            this.imdsV2Required = required;
            return this;
        }

        /** Lifetime asked for IMDSv2 tokens, 1 s to 6 h. Default: 6 h. */
        public Builder tokenTtl(Duration ttl) {
            if (ttl.getSeconds() < 1 || ttl.getSeconds() > 21600) {
                throw new IllegalArgumentException("tokenTtl must be 1 s to 6 h, got " + ttl);
            }
            this.tokenTtl = ttl;
            return this;
        }

        /** Per-attempt TCP connect timeout. Default: 1 s. Ignored when {@link #httpClient} is given. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /** Per-attempt wait for a response. Default: 2 s. */
        public Builder readTimeout(Duration timeout) {
            this.readTimeout = positive(timeout, "readTimeout");
            return this;
        }

        /**
         * How long the IMDSv2 token request may take before falling back to IMDSv1 (a token PUT that
         * never answers usually means the hop limit is too low, e.g. inside a container). Default: 1 s.
         */
        public Builder tokenTimeout(Duration timeout) {
            this.tokenTimeout = positive(timeout, "tokenTimeout");
            return this;
        }

        /** Default: {@link RetryPolicy#defaults()}. */
        public Builder retryPolicy(RetryPolicy policy) {
            this.retryPolicy = Objects.requireNonNull(policy, "retryPolicy");
            return this;
        }

        /** Time source for deadlines and token expiry. Default: the system UTC clock. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Waits between attempts. Default: {@link Sleeper#SYSTEM}. */
        public Builder sleeper(Sleeper sleeper) {
            this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
            return this;
        }

        /** Randomness for jitter. Default: a new {@link SplittableRandom}. */
        public Builder random(RandomGenerator random) {
            this.random = Objects.requireNonNull(random, "random");
            return this;
        }

        /** Use this HTTP client; the caller keeps ownership and closes it. Default: one built and closed here. */
        public Builder httpClient(CloseableHttpClient httpClient) {
            this.httpClient = Objects.requireNonNull(httpClient, "httpClient");
            return this;
        }

        /** For {@link Provider#NOCLOUD}: a directory holding {@code user-data}/{@code meta-data}, or a user-data file. */
        public Builder noCloudSource(Path path) {
            this.noCloudSource = Objects.requireNonNull(path, "noCloudSource");
            return this;
        }

        public MetadataClient build() {
            if (provider == Provider.NOCLOUD && noCloudSource == null) {
                throw new IllegalStateException("provider nocloud needs a source: call noCloudSource(path) with the "
                        + "directory holding user-data and meta-data, or the user-data file");
            }
            return new DefaultMetadataClient(new DefaultMetadataClient.Settings(Optional.ofNullable(provider),
                    Optional.ofNullable(endpoint), endpointMode, imdsV2Required, ec2Disabled, tokenTtl, connectTimeout,
                    readTimeout, tokenTimeout, retryPolicy, detectionTimeout, sysfsRoot, clock, sleeper, random,
                    httpClient, noCloudSource));
        }

        private static Duration positive(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + d);
            }
            return d;
        }
    }
}
