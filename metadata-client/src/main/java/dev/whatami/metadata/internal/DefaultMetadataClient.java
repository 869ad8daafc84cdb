package dev.whatami.metadata.internal;

import dev.whatami.metadata.EndpointMode;
import dev.whatami.metadata.HttpClientFactory;
import dev.whatami.metadata.InstanceCredentials;
import dev.whatami.metadata.InstanceIdentity;
import dev.whatami.metadata.MetadataClient;
import dev.whatami.metadata.MetadataException.Reason;
import dev.whatami.metadata.MetadataRefusedException;
import dev.whatami.metadata.Provider;
import dev.whatami.metadata.RetryLoop;
import dev.whatami.metadata.RetryPolicy;
import dev.whatami.metadata.Sleeper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.random.RandomGenerator;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.slf4j.LoggerFactory;

/** The client behind {@link MetadataClient#builder()}: picks the provider and owns what it built. */
public final class DefaultMetadataClient implements MetadataClient {

    /**
     * Everything the builder resolved.
     *
     * @param provider the provider, or empty to detect it
     * @param endpoint an endpoint for every provider, or empty for each provider's own
     */
    public record Settings(Optional<Provider> provider, Optional<URI> endpoint, EndpointMode endpointMode,
                           boolean imdsV2Required, boolean ec2Disabled, Duration tokenTtl, Duration connectTimeout,
                           Duration readTimeout, Duration tokenTimeout, RetryPolicy retryPolicy,
                           Duration detectionTimeout, Path sysfsRoot, Clock clock, Sleeper sleeper,
                           RandomGenerator random, CloseableHttpClient httpClient, Path noCloudSource) {
    }

    /** GCE's own name for its metadata server. */
    static final URI GCE_ENDPOINT = URI.create("http://metadata.google.internal");
    /** Where Azure, OCI, DigitalOcean and Hetzner answer. */
    static final URI LINK_LOCAL = URI.create("http://169.254.169.254");

    private final Settings settings;
    private final CloseableHttpClient ownedHttpClient;
    private final BoundedExchange http;
    private ProviderClient delegate;
    private Ec2Provider ec2;
    private InstanceCredentials credentials;

    public DefaultMetadataClient(Settings s) {
        this.settings = s;
        if (s.provider().orElse(null) == Provider.NOCLOUD) {
            this.delegate = new NoCloudProvider(s.noCloudSource());
            this.ownedHttpClient = null;
            this.http = null;
            return;
        }
        if (s.provider().orElse(null) == Provider.EC2 && s.ec2Disabled()) {
            throw new MetadataRefusedException(Reason.EC2_DISABLED, "the EC2 metadata service is disabled "
                    + "(ec2Disabled(true), which AWS_EC2_METADATA_DISABLED=true sets); call ec2Disabled(false), or give "
                    + "the user-data another way (provider(Provider.NOCLOUD) with noCloudSource(path))", null, 0, null);
        }
        this.ownedHttpClient = s.httpClient() == null ? HttpClientFactory.builder().connectTimeout(s.connectTimeout())
                .socketTimeout(s.readTimeout()).build() : null;
        this.http = new BoundedExchange(s.httpClient() == null ? ownedHttpClient : s.httpClient());
        s.provider().ifPresent(p -> this.delegate = client(p));
    }

    private URI endpointFor(Provider p) {
        return settings.endpoint().orElse(switch (p) {
            case EC2 -> settings.endpointMode().endpoint();
            case GCE -> GCE_ENDPOINT;
            default -> LINK_LOCAL;
        });
    }

    private Retrier retrier() {
        return new Retrier(loop(settings.retryPolicy()));
    }

    private RetryLoop loop(RetryPolicy policy) {
        return RetryLoop.of(policy, settings.clock(), settings.sleeper(), settings.random());
    }

    private ProviderClient client(Provider p) {
        if (p == Provider.EC2) {
            return ec2();
        }
        return new HttpProvider(http, endpointFor(p), HttpProvider.spec(p), settings.readTimeout(), retrier());
    }

    /** The one EC2 client (and IMDSv2 token cache), for the provider and for instance credentials alike. */
    private synchronized Ec2Provider ec2() {
        if (ec2 == null) {
            ec2 = new Ec2Provider(http, endpointFor(Provider.EC2), settings.imdsV2Required(), settings.tokenTtl(),
                    settings.readTimeout(), settings.tokenTimeout(), retrier());
        }
        return ec2;
    }

    @Override
    public synchronized InstanceCredentials instanceCredentials() {
        if (http == null) {
            throw new IllegalStateException("a nocloud client has no instance credentials; build a client for the "
                    + "cloud (provider(...) or autoDetect()) to get them");
        }
        if (credentials == null) {
            credentials = new DefaultInstanceCredentials(this::ec2, settings.ec2Disabled(), http,
                    endpointFor(Provider.GCE), endpointFor(Provider.AZURE), settings.readTimeout(), retrier());
        }
        return credentials;
    }

    /** The provider's client, detecting the provider on first use when none was named. */
    private synchronized ProviderClient delegate() {
        if (delegate == null) {
            Detector.Hint hint = Detector.fromPlatform(settings.sysfsRoot());
            Provider p = hint.provider().filter(h -> !(h == Provider.EC2 && settings.ec2Disabled())).orElse(null);
            if (p != null) {
                LoggerFactory.getLogger(DefaultMetadataClient.class).info("the platform says {} ({})", p.token(),
                        hint.evidence());
            } else {
                Map<Provider, URI> endpoints = new EnumMap<>(Provider.class);
                Detector.PROBE_ORDER.forEach(x -> endpoints.put(x, endpointFor(x)));
                RetryPolicy detection = settings.retryPolicy().toBuilder().deadline(settings.detectionTimeout())
                        .build();
                p = Detector.probe(http, endpoints, settings.ec2Disabled() ? Set.of(Provider.EC2) : Set.of(),
                        loop(detection), settings.tokenTimeout(), hint.evidence());
            }
            delegate = client(p);
        }
        return delegate;
    }

    @Override
    public InstanceIdentity identity() {
        return delegate().identity();
    }

    @Override
    public Optional<byte[]> userData() {
        return delegate().userData();
    }

    @Override
    public Provider provider() {
        return delegate().provider();
    }

    @Override
    public void close() {
        if (http != null) {
            http.close();
        }
        if (ownedHttpClient != null) {
            try {
                ownedHttpClient.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** The resolved settings, without anything secret (there is nothing secret in them). */
    @Override
    public String toString() {
        return "MetadataClient[provider=" + settings.provider().map(Provider::token).orElse("auto") + ", endpoint="
                + settings.endpoint().map(URI::toString).orElse("default (" + settings.endpointMode().endpoint()
                + " for ec2)") + ", imdsV2Required=" + settings.imdsV2Required() + ", ec2Disabled="
                + settings.ec2Disabled() + ", tokenTimeout=" + settings.tokenTimeout() + ", readTimeout="
                + settings.readTimeout() + ", " + settings.retryPolicy() + "]";
    }

    /** One provider's way of answering. */
    interface ProviderClient {
        InstanceIdentity identity();

        Optional<byte[]> userData();

        Provider provider();
    }
}
