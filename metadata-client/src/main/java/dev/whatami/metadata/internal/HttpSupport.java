package dev.whatami.metadata.internal;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.HttpEntity;

/** The HTTP client this module builds when the caller gives none. */
final class HttpSupport {
    private HttpSupport() {
    }

    static CloseableHttpClient defaultClient(Duration connectTimeout, Duration readTimeout) {
        return dev.whatami.metadata.HttpClientFactory.builder().connectTimeout(connectTimeout)
                .socketTimeout(readTimeout).build();
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
}
