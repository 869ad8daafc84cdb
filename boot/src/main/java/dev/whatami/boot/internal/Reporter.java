package dev.whatami.boot.internal;

import dev.whatami.boot.ReportPolicy;
import dev.whatami.metadata.HttpClientFactory;
import dev.whatami.metadata.RetryPolicy;
import dev.whatami.metadata.Sleeper;
import dev.whatami.status.RunStatus;
import dev.whatami.status.StatusCodec;
import dev.whatami.userdata.Redact;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Phone-home: POSTs the status document (which never holds user-data or environment values) to the report URL after
 * each task and at the end, retried under the shared {@link RetryPolicy} type. All reporting of one run shares one
 * budget — the time spent reporting, not the time since the run started, so a slow boot still reports its end. It is
 * enforced as a hard deadline on each request: one still in flight when the budget runs out is aborted, so an endpoint
 * that accepts the connection and then dribbles cannot hold the boot. Once spent, the agent stops reporting.
 */
final class Reporter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Reporter.class);
    private static final StatusCodec CODEC = StatusCodec.create();

    private final URI url;
    private final Optional<String> token;
    private final Clock clock;
    private final Sleeper sleeper;
    private final RetryPolicy policy;
    private final Duration budget;
    private Duration spent = Duration.ZERO;
    private final CloseableHttpClient http;
    private final ScheduledExecutorService aborter;
    private final SplittableRandom random = new SplittableRandom();
    private boolean exhausted;

    Reporter(URI url, Optional<String> token, Duration budget, Clock clock, Sleeper sleeper) {
        this.url = url;
        this.token = token;
        this.clock = clock;
        this.sleeper = sleeper;
        this.budget = budget;
        ReportPolicy reporting = ReportPolicy.forBudget(budget);
        this.policy = reporting.retry();
        this.http = HttpClientFactory.builder().connectTimeout(reporting.perCallTimeout())
                .socketTimeout(reporting.perCallTimeout()).build();
        this.aborter = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "whatami-report-deadline");
            t.setDaemon(true);
            return t;
        });
    }

    /** Sends the document; failures are logged, never thrown. */
    void send(RunStatus status) {
        if (exhausted) {
            return;
        }
        byte[] body = CODEC.write(status);
        Instant began = clock.instant();
        try {
            post(body, began);
        } finally {
            spent = spent.plus(Duration.between(began, clock.instant()));
        }
    }

    private void post(byte[] body, Instant began) {
        for (int attempt = 1; attempt <= policy.maxAttempts(); attempt++) {
            Duration left = budget.minus(spent).minus(Duration.between(began, clock.instant()));
            if (left.isNegative() || left.isZero()) {
                giveUp();
                return;
            }
            HttpPost post = new HttpPost(url);
            post.setEntity(new ByteArrayEntity(body, ContentType.APPLICATION_JSON));
            token.ifPresent(t -> post.addHeader("Authorization", "Bearer " + t));
            ScheduledFuture<?> abort = aborter.schedule(post::cancel, left.toMillis(), TimeUnit.MILLISECONDS);
            int code;
            try (ClassicHttpResponse response = http.executeOpen(null, post, null)) {
                code = response.getCode();
                // the answer's body is not read: closing without consuming drops the connection instead of draining
            } catch (IOException | RuntimeException e) {
                // RuntimeException: HttpClient throws IllegalStateException ("Endpoint not acquired / already
                // released") when the budget's abort lands while it takes or gives back its connection; a report
                // never breaks the boot, whatever it failed on
                if (post.isCancelled()) {
                    giveUp();
                    return;
                }
                LOG.debug("report: {} failed (attempt {}): {}", Redact.url(url), attempt, e.toString());
                if (attempt == policy.maxAttempts()) {
                    LOG.warn("report: could not reach {}: {}", Redact.url(url), e.getMessage());
                    return;
                }
                pause(attempt, began);
                continue;
            } finally {
                abort.cancel(false);
            }
            if (code / 100 == 2) {
                LOG.debug("report: sent to {} ({})", Redact.url(url), code);
                return;
            }
            if (!ReportPolicy.retried(code)) {
                LOG.warn("report: {} answered HTTP {}; not retrying{}", Redact.url(url), code,
                        code == 401 || code == 403 ? " (is the report token right?)" : "");
                return;
            }
            if (attempt == policy.maxAttempts()) {
                LOG.warn("report: {} answered HTTP {} {} times; the report is lost", Redact.url(url), code, attempt);
                return;
            }
            LOG.debug("report: {} answered HTTP {} (attempt {})", Redact.url(url), code, attempt);
            pause(attempt, began);
        }
    }

    private void pause(int attempt, Instant began) {
        long ceiling = policy.backoffCeiling(attempt).toMillis();
        Duration wait = Duration.ofMillis((long) (random.nextDouble() * ceiling));
        if (spent.plus(Duration.between(began, clock.instant())).plus(wait).compareTo(budget) > 0) {
            return;
        }
        try {
            sleeper.sleep(wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void giveUp() {
        exhausted = true;
        LOG.warn("report: gave up on {}: the reporting budget is spent (the boot goes on without it)", Redact.url(url));
    }

    @Override
    public void close() {
        aborter.shutdownNow();
        try {
            http.close();
        } catch (IOException e) {
            LOG.debug("report: closing the client: {}", e.toString());
        }
    }
}
