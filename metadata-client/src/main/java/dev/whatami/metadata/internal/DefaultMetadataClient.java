package dev.whatami.metadata.internal;

import dev.whatami.metadata.InstanceIdentity;
import dev.whatami.metadata.MetadataClient;
import dev.whatami.metadata.Provider;
import dev.whatami.metadata.RetryPolicy;
import dev.whatami.metadata.Sleeper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.random.RandomGenerator;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;

/** The client behind {@link MetadataClient#builder()}: picks the provider and owns what it built. */
public final class DefaultMetadataClient implements MetadataClient {

    /** Everything the builder collected. */
    public record Settings(Provider provider, URI endpoint, boolean imdsV2Required, Duration tokenTtl,
                           Duration connectTimeout, Duration readTimeout, Duration tokenTimeout,
                           RetryPolicy retryPolicy, Clock clock, Sleeper sleeper, RandomGenerator random,
                           CloseableHttpClient httpClient, Path noCloudSource) {
    }

    private final ProviderClient delegate;
    private final CloseableHttpClient ownedHttpClient;

    public DefaultMetadataClient(Settings s) {
        if (s.provider() == Provider.NOCLOUD) {
            this.delegate = new NoCloudProvider(s.noCloudSource());
            this.ownedHttpClient = null;
            return;
        }
        CloseableHttpClient http = s.httpClient();
        this.ownedHttpClient = http == null ? HttpSupport.defaultClient(s.connectTimeout()) : null;
        Retrier retrier = new Retrier(s.retryPolicy(), s.clock(), s.sleeper(), s.random());
        this.delegate = new Ec2Provider(http == null ? ownedHttpClient : http, s.endpoint(), s.imdsV2Required(),
                s.tokenTtl(), s.readTimeout(), s.tokenTimeout(), retrier, s.clock());
    }

    @Override
    public InstanceIdentity identity() {
        return delegate.identity();
    }

    @Override
    public Optional<byte[]> userData() {
        return delegate.userData();
    }

    @Override
    public Provider provider() {
        return delegate.provider();
    }

    @Override
    public void close() {
        if (ownedHttpClient != null) {
            try {
                ownedHttpClient.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** One provider's way of answering. */
    interface ProviderClient {
        InstanceIdentity identity();

        Optional<byte[]> userData();

        Provider provider();
    }
}
