package dev.whatami.metadata;

import dev.whatami.metadata.internal.LazyTls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.ManagedHttpClientConnectionFactory;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.util.Timeout;

/**
 * The one way whatami builds an Apache HttpClient 5 client, for metadata, scripts and reports alike. The client it
 * makes does what a boot agent needs and nothing it must not:
 * <ul>
 *   <li>no automatic retries (callers retry under their own {@link RetryPolicy} and deadline);</li>
 *   <li>no redirects (a caller that follows them does it itself, with its own policy) and no content
 *       decompression (bytes arrive exactly as served, so digests and signatures are over what the server
 *       sent);</li>
 *   <li>no cookies and no auth caching (HttpClient is given an empty cookie-spec registry: it otherwise parses the
 *       public-suffix list at start, ~20 ms of a boot);</li>
 *   <li>{@code User-Agent: whatami} ({@link #USER_AGENT}), so a file server's or proxy's log tells the agents'
 *       requests apart (HttpClient's default reads a version resource from its jar at every build, ~4 ms);</li>
 *   <li>bounded response heads: at most {@link #MAX_HEADER_COUNT} header fields of at most
 *       {@link #MAX_LINE_LENGTH} bytes each;</li>
 *   <li>a TLS stack built only on the first {@code https} connection (~200 ms a plain-http boot never pays),
 *       trusting the system's CAs or exactly those of a PEM bundle.</li>
 * </ul>
 *
 * <pre>{@code
 * try (CloseableHttpClient http = HttpClientFactory.builder().connectTimeout(Duration.ofSeconds(1)).build()) {
 *     ...
 * }
 * }</pre>
 *
 * The caller owns the client and closes it. Thread-safe, as HttpClient's clients are.
 */
public final class HttpClientFactory {
    /** Most header fields accepted in a response. */
    public static final int MAX_HEADER_COUNT = 64;
    /** Longest status or header line accepted in a response, in bytes. */
    public static final int MAX_LINE_LENGTH = 8192;
    /** The {@code User-Agent} every request carries. */
    public static final String USER_AGENT = "whatami";

    private HttpClientFactory() {
    }

    /** A builder with every setting at its default. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds clients. Not thread-safe. */
    public static final class Builder {
        private Duration connectTimeout = Duration.ofSeconds(1);
        private Duration socketTimeout = Duration.ofSeconds(2);
        private Optional<Path> caBundle = Optional.empty();

        private Builder() {
        }

        /** TCP connect timeout per connection. Default: 1 s. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /**
         * Longest silence on a connection while waiting for bytes (a request's own response timeout may be
         * shorter). Default: 2 s.
         */
        public Builder socketTimeout(Duration timeout) {
            this.socketTimeout = positive(timeout, "socketTimeout");
            return this;
        }

        /**
         * Trust exactly the CA certificates in this PEM bundle for https, read on the first https connection.
         * Default: the system's trust store.
         *
         * @throws IllegalArgumentException when the file cannot be read
         */
        public Builder caBundle(Path bundle) {
            Objects.requireNonNull(bundle, "caBundle");
            if (!Files.isReadable(bundle)) {
                throw new IllegalArgumentException("the CA bundle " + bundle + " is not a readable file; give a PEM "
                        + "file of CA certificates to caBundle(...)");
            }
            this.caBundle = Optional.of(bundle);
            return this;
        }

        /** The client; the caller closes it. */
        public CloseableHttpClient build() {
            Timeout connect = Timeout.of(connectTimeout.toMillis(), TimeUnit.MILLISECONDS);
            Timeout socket = Timeout.of(socketTimeout.toMillis(), TimeUnit.MILLISECONDS);
            return HttpClients.custom()
                    .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                            .setTlsSocketStrategy(new LazyTls(caBundle))
                            .setConnectionFactory(ManagedHttpClientConnectionFactory.builder()
                                    .http1Config(Http1Config.custom().setMaxHeaderCount(MAX_HEADER_COUNT)
                                            .setMaxLineLength(MAX_LINE_LENGTH).build())
                                    .build())
                            .setDefaultConnectionConfig(ConnectionConfig.custom().setConnectTimeout(connect)
                                    .setSocketTimeout(socket).build())
                            .build())
                    .setDefaultRequestConfig(RequestConfig.custom().setRedirectsEnabled(false)
                            .setContentCompressionEnabled(false).setResponseTimeout(socket).build())
                    .disableAutomaticRetries()
                    .disableRedirectHandling()
                    .disableContentCompression()
                    .disableCookieManagement()
                    .setDefaultCookieSpecRegistry(name -> null)
                    .disableAuthCaching()
                    .setUserAgent(USER_AGENT)
                    .build();
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
