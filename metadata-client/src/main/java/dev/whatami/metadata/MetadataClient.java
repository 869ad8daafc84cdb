package dev.whatami.metadata;

import dev.whatami.metadata.internal.DefaultMetadataClient;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
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

    /**
     * The largest user-data accepted, in bytes: 16 MiB (EC2 caps raw user-data at 16 KiB; other clouds allow more).
     * Larger user-data is a {@link UserDataTooLargeException}, found without reading past the limit.
     */
    int MAX_USER_DATA_BYTES = 16 << 20;

    /**
     * Who this instance is. One call: retried under the retry policy's deadline, with at most one IMDSv1 fallback.
     *
     * @throws MetadataUnreachableException no answer by the deadline, or no provider detected
     * @throws MetadataRefusedException     the service (or this client's settings) refused
     * @throws MetadataProtocolException    the answer is unusable
     */
    InstanceIdentity identity();

    /**
     * The instance's user-data, or empty when the provider says there is none (EC2 answers 404). One call, as
     * {@link #identity()}.
     *
     * @throws UserDataTooLargeException the user-data is larger than {@link #MAX_USER_DATA_BYTES}
     * @throws MetadataException         as {@link #identity()}
     */
    Optional<byte[]> userData();

    /**
     * The credentials the instance's own identity gives (EC2 role, GCE service account, Azure managed identity),
     * through this client's HTTP client, retry policy and IMDSv2 handling. The same object on every call.
     *
     * @throws IllegalStateException for a {@link Provider#NOCLOUD} client
     */
    InstanceCredentials instanceCredentials();

    /** The provider this client talks to (detecting it first, when the builder was told to). */
    Provider provider();

    /** Closes what the client built (its HTTP client, its timer thread); not an HTTP client it was given. */
    @Override
    void close();

    /** A builder with every setting at its default. */
    static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link MetadataClient}. Not thread-safe. */
    final class Builder {
        private Provider provider = Provider.EC2;
        private URI endpoint;
        private EndpointMode endpointMode;
        private Boolean imdsV2Required;
        private Boolean ec2Disabled;
        private Map<String, String> environment = Map.of();
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

        /**
         * EC2's IPv4 or IPv6 endpoint. Default: {@link EndpointMode#IPV4}, or what
         * {@code AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE} says in the {@link #environment}. Giving both this and
         * {@link #endpoint} is refused at {@link #build()}, as the AWS SDKs refuse it.
         */
        public Builder endpointMode(EndpointMode mode) {
            this.endpointMode = Objects.requireNonNull(mode, "endpointMode");
            return this;
        }

        /**
         * Never ask EC2, as {@code AWS_EC2_METADATA_DISABLED=true}: detection skips it, and naming it is refused.
         * Default: false, or what that variable says in the {@link #environment}.
         */
        public Builder ec2Disabled(boolean disabled) {
            this.ec2Disabled = disabled;
            return this;
        }

        /**
         * Base URI of the metadata service, e.g. {@code http://127.0.0.1:8080}; with {@link #autoDetect()} every
         * provider is probed there. Default: each provider's own ({@code http://169.254.169.254},
         * {@code http://[fd00:ec2::254]} in IPv6 mode, {@code http://metadata.google.internal} for GCE), or
         * {@code AWS_EC2_METADATA_SERVICE_ENDPOINT} from the {@link #environment}. Giving both this and
         * {@link #endpointMode} is refused at {@link #build()}.
         *
         * @throws IllegalArgumentException when it is not an http(s) URL with a host
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
         * Refuse IMDSv1: never read without a session token, however long the token takes within the deadline (as
         * {@code AWS_EC2_METADATA_V1_DISABLED=true}). Default: false — a token request that times out, or a service
         * without IMDSv2, lets that one call read with IMDSv1 — or what that variable says in the
         * {@link #environment}.
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
         * How long the IMDSv2 token request may take before the call falls back to IMDSv1 (a token PUT that never
         * answers usually means the hop limit is too low, e.g. inside a container). The fallback lasts one call; when
         * the service then asks for a token (401), or v1 is disabled, the token is asked for again, each time waiting
         * twice as long (at most 30 s), within the deadline. Default: 1 s (with v1 disabled, at least the
         * {@link #readTimeout}).
         */
        public Builder tokenTimeout(Duration timeout) {
            this.tokenTimeout = positive(timeout, "tokenTimeout");
            return this;
        }

        /**
         * How calls are retried: I/O errors, timeouts, 5xx, 429 and 408 (honouring {@code Retry-After}) until the
         * policy's attempt limit or deadline, counted from the start of each {@code identity()} or
         * {@code userData()} call; an attempt in progress at the deadline is cut off. Detection uses the same
         * backoff under {@link #detectionTimeout}. Default: {@link RetryPolicy#defaults()} (120 s).
         */
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

        /**
         * Resolve the AWS SDK's settings from this environment (a map the caller gives, e.g. {@code System.getenv()}
         * in an application's main): {@code AWS_EC2_METADATA_SERVICE_ENDPOINT} (as {@link #endpoint}),
         * {@code AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE} ({@code IPv4} or {@code IPv6}, any case; ignored when an
         * endpoint is set), {@code AWS_EC2_METADATA_DISABLED} and {@code AWS_EC2_METADATA_V1_DISABLED}
         * ({@code true} or {@code false}, any case). Explicit builder calls win over the environment, whatever
         * the order. Values are checked at {@link #build()}. Default: an empty environment.
         */
        public Builder environment(Map<String, String> environment) {
            this.environment = Map.copyOf(Objects.requireNonNull(environment, "environment"));
            return this;
        }

        /** For {@link Provider#NOCLOUD}: a directory holding {@code user-data}/{@code meta-data}, or a user-data file. */
        public Builder noCloudSource(Path path) {
            this.noCloudSource = Objects.requireNonNull(path, "noCloudSource");
            return this;
        }

        /**
         * The client.
         *
         * @throws IllegalStateException    for settings that contradict each other ({@link #endpoint} with
         *                                  {@link #endpointMode}; {@link Provider#NOCLOUD} without a source)
         * @throws IllegalArgumentException for a bad value in the {@link #environment}
         * @throws MetadataRefusedException for {@link Provider#EC2} while EC2 is disabled
         */
        public MetadataClient build() {
            if (endpoint != null && endpointMode != null) {
                throw new IllegalStateException("give endpoint(" + endpoint + ") or endpointMode(" + endpointMode
                        + "), not both: the endpoint names the address itself (the AWS SDKs refuse both too)");
            }
            if (provider == Provider.NOCLOUD && noCloudSource == null) {
                throw new IllegalStateException("provider nocloud needs a source: call noCloudSource(path) with the "
                        + "directory holding user-data and meta-data, or the user-data file");
            }
            URI resolvedEndpoint = endpoint;
            EndpointMode resolvedMode = endpointMode;
            if (resolvedEndpoint == null && resolvedMode == null) {
                String e = environment.get("AWS_EC2_METADATA_SERVICE_ENDPOINT");
                if (e != null && !e.isBlank()) {
                    resolvedEndpoint = environmentEndpoint(e.strip());
                } else {
                    resolvedMode = environmentMode(environment.get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"));
                }
            }
            boolean v2 = imdsV2Required != null ? imdsV2Required
                    : flag("AWS_EC2_METADATA_V1_DISABLED", environment.get("AWS_EC2_METADATA_V1_DISABLED"));
            boolean disabled = ec2Disabled != null ? ec2Disabled
                    : flag("AWS_EC2_METADATA_DISABLED", environment.get("AWS_EC2_METADATA_DISABLED"));
            return new DefaultMetadataClient(new DefaultMetadataClient.Settings(Optional.ofNullable(provider),
                    Optional.ofNullable(resolvedEndpoint), resolvedMode == null ? EndpointMode.IPV4 : resolvedMode,
                    v2, disabled, tokenTtl, connectTimeout, readTimeout, tokenTimeout, retryPolicy, detectionTimeout,
                    sysfsRoot, clock, sleeper, random, httpClient, noCloudSource));
        }

        private static URI environmentEndpoint(String value) {
            try {
                URI u = URI.create(value.endsWith("/") ? value.substring(0, value.length() - 1) : value);
                new Builder().endpoint(u);
                return u;
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("AWS_EC2_METADATA_SERVICE_ENDPOINT must be an http or https URL "
                        + "with a host, e.g. http://127.0.0.1:8080; got " + value);
            }
        }

        private static EndpointMode environmentMode(String value) {
            if (value == null || value.isBlank()) {
                return null;
            }
            return switch (value.strip().toLowerCase(Locale.ROOT)) {
                case "ipv4" -> EndpointMode.IPV4;
                case "ipv6" -> EndpointMode.IPV6;
                default -> throw new IllegalArgumentException("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE must be IPv4 "
                        + "or IPv6, got " + value);
            };
        }

        private static boolean flag(String name, String value) {
            if (value == null || value.isBlank()) {
                return false;
            }
            return switch (value.strip().toLowerCase(Locale.ROOT)) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new IllegalArgumentException(name + " must be true or false, got " + value);
            };
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
