package dev.whatami.metadata.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.client5.http.ssl.TlsSocketStrategy;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.util.Timeout;

/** The HTTP client this module builds when the caller gives none. */
final class HttpSupport {
    private HttpSupport() {
    }

    static CloseableHttpClient defaultClient(Duration connectTimeout) {
        return HttpClients.custom()
                .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                        .setTlsSocketStrategy(new LazyTls())
                        .setDefaultConnectionConfig(ConnectionConfig.custom()
                                .setConnectTimeout(Timeout.of(connectTimeout.toMillis(), TimeUnit.MILLISECONDS))
                                .build())
                        .build())
                .disableAutomaticRetries() // we retry ourselves, under a deadline
                .disableRedirectHandling()
                .disableCookieManagement()
                .setDefaultCookieSpecRegistry(name -> null) // else built anyway, reading the public suffix list (~20 ms)
                .disableAuthCaching()
                .build();
    }

    /** Reads at most {@code limit} bytes; more is a protocol error. Returns null when over the limit. */
    static byte[] readBounded(HttpEntity entity, int limit) throws IOException {
        if (entity == null) {
            return new byte[0];
        }
        try (InputStream in = entity.getContent()) {
            byte[] data = in.readNBytes(limit + 1);
            return data.length > limit ? null : data;
        }
    }

    /**
     * Metadata endpoints are plain http; the TLS stack costs ~200 ms to start, so it is built only if an
     * https endpoint is actually used.
     */
    private static final class LazyTls implements TlsSocketStrategy {
        private volatile TlsSocketStrategy delegate;

        @Override
        public SSLSocket upgrade(Socket socket, String target, int port, Object attachment, HttpContext context)
                throws IOException {
            TlsSocketStrategy d = delegate;
            if (d == null) {
                synchronized (this) {
                    if (delegate == null) {
                        delegate = DefaultClientTlsStrategy.createSystemDefault();
                    }
                    d = delegate;
                }
            }
            return d.upgrade(socket, target, port, attachment, context);
        }
    }
}
