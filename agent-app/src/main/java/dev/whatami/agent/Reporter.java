package dev.whatami.agent;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.entity.StringEntity;
import org.apache.hc.core5.http.io.support.ClassicRequestBuilder;
import org.apache.hc.core5.util.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Phone-home: POSTs the status document (never user-data, never environment values) to the report URL after
 * each task and at the end. Every POST is short and retried at most twice, and all reporting of one run
 * shares one budget: once it is spent the agent stops reporting rather than delay the boot.
 */
final class Reporter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Reporter.class);
    private static final int ATTEMPTS = 3;

    private final URI url;
    private final Optional<String> token;
    private final Clock clock;
    private final Instant budgetEnd;
    private final CloseableHttpClient http;
    private boolean exhausted;

    Reporter(URI url, Optional<String> token, Duration budget, Clock clock) {
        this.url = url;
        this.token = token;
        this.clock = clock;
        this.budgetEnd = clock.instant().plus(budget);
        Timeout perCall = Timeout.of(Math.min(3000, Math.max(100, budget.toMillis())), TimeUnit.MILLISECONDS);
        this.http = HttpClients.custom()
                .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                        .setDefaultConnectionConfig(ConnectionConfig.custom().setConnectTimeout(perCall)
                                .setSocketTimeout(perCall).build())
                        .build())
                .setDefaultRequestConfig(RequestConfig.custom().setResponseTimeout(perCall).build())
                .disableAutomaticRetries()
                .disableRedirectHandling()
                .disableCookieManagement()
                .setDefaultCookieSpecRegistry(name -> null) // else built anyway, reading the public suffix list (~20 ms)
                .build();
    }

    /** Sends the document; failures are logged, never thrown. */
    void send(Map<String, Object> document) {
        if (exhausted) {
            return;
        }
        String body = Json.pretty(document);
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            if (clock.instant().isAfter(budgetEnd)) {
                exhausted = true;
                LOG.warn("report: gave up on {}: the reporting budget is spent (the boot goes on without it)", url);
                return;
            }
            try {
                ClassicRequestBuilder post = ClassicRequestBuilder.post(url)
                        .setEntity(new StringEntity(body, ContentType.APPLICATION_JSON.withCharset(StandardCharsets.UTF_8)));
                token.ifPresent(t -> post.addHeader("Authorization", "Bearer " + t));
                int status = http.execute(post.build(), response -> {
                    EntityUtils.consume(response.getEntity());
                    return response.getCode();
                });
                if (status / 100 == 2) {
                    LOG.debug("report: sent to {} ({})", url, status);
                    return;
                }
                if (status < 500 && status != 429) {
                    LOG.warn("report: {} answered HTTP {}; not retrying{}", url, status,
                            status == 401 || status == 403 ? " (check --report-token)" : "");
                    return;
                }
                LOG.debug("report: {} answered HTTP {} (attempt {})", url, status, attempt);
            } catch (IOException e) {
                LOG.debug("report: {} failed (attempt {}): {}", url, attempt, e.toString());
                if (attempt == ATTEMPTS) {
                    LOG.warn("report: could not reach {}: {}", url, e.getMessage());
                }
            }
        }
    }

    @Override
    public void close() {
        try {
            http.close();
        } catch (IOException e) {
            LOG.debug("report: closing the client: {}", e.toString());
        }
    }
}
