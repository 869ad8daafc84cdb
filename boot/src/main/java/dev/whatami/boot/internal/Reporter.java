package dev.whatami.boot.internal;

import dev.whatami.boot.ReportPolicy;
import dev.whatami.metadata.HttpClientFactory;
import dev.whatami.metadata.RetryLoop;
import dev.whatami.metadata.RetryLoop.Outcome;
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
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Phone-home: POSTs the status document (which never holds user-data or environment values) to the report URL after
 * each task and at the end, retried through the one {@link RetryLoop} under {@link ReportPolicy}'s retry policy (its
 * backoff and jitter; statuses by {@link RetryLoop#retriedStatus}). All reporting of one run shares one
 * budget — the time spent reporting, not the time since the run started, so a slow boot still reports its end. It is
 * enforced as a hard deadline on each request: one still in flight when the budget runs out is aborted, so an endpoint
 * that accepts the connection and then dribbles cannot hold the boot. Once spent, the agent stops reporting.
 */
final class Reporter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Reporter.class);
    private static final StatusCodec CODEC = StatusCodec.create();

    private final URI url;
    private final Optional<String> token;
    private final Optional<String> instanceKey;
    private final Clock clock;
    private final RetryLoop loop;
    private final Duration budget;
    private Duration spent = Duration.ZERO;
    private final CloseableHttpClient http;
    private final ScheduledExecutorService aborter;
    private boolean exhausted;

    Reporter(URI url, Optional<String> token, Duration budget, Clock clock, Sleeper sleeper) {
        this(url, token, ReportPolicy.forBudget(budget), clock, sleeper, null);
    }

    /**
     * @param reporting how to retry and time the reports; its retry policy's deadline is the budget
     * @param random    randomness for the policy's jitter, or null for the retry loop's default
     */
    Reporter(URI url, Optional<String> token, ReportPolicy reporting, Clock clock, Sleeper sleeper,
             RandomGenerator random) {
        this(url, token, Optional.empty(), reporting, clock, sleeper, random);
    }

    /** @param instanceKey this instance's report key ({@link InstanceKey}), sent with each report */
    Reporter(URI url, Optional<String> token, Optional<String> instanceKey, ReportPolicy reporting, Clock clock,
             Sleeper sleeper, RandomGenerator random) {
        this.url = url;
        this.token = token;
        this.instanceKey = instanceKey;
        this.clock = clock;
        this.budget = reporting.retry().deadline();
        this.loop = random == null ? RetryLoop.of(reporting.retry(), clock, sleeper)
                : RetryLoop.of(reporting.retry(), clock, sleeper, random);
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
            Instant deadline = began.plus(budget.minus(spent));
            loop.run(deadline, attempt -> post(body, deadline, attempt), this::lost);
        } finally {
            spent = spent.plus(Duration.between(began, clock.instant()));
        }
    }

    /** One POST; done when it was delivered, refused, or the budget ran out. */
    private Outcome<Void> post(byte[] body, Instant deadline, int attempt) {
        Duration left = Duration.between(clock.instant(), deadline);
        if (left.isNegative() || left.isZero()) {
            giveUp();
            return Outcome.done(null);
        }
        HttpPost post = new HttpPost(url);
        post.setEntity(new ByteArrayEntity(body, ContentType.APPLICATION_JSON));
        token.ifPresent(t -> post.addHeader("Authorization", "Bearer " + t));
        instanceKey.ifPresent(k -> post.addHeader(InstanceKey.HEADER, k));
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
                return Outcome.done(null);
            }
            LOG.debug("report: {} failed (attempt {}): {}", Redact.url(url), attempt, e.toString());
            return Outcome.retry(e);
        } finally {
            abort.cancel(false);
        }
        if (code / 100 == 2) {
            LOG.debug("report: sent to {} ({})", Redact.url(url), code);
            return Outcome.done(null);
        }
        if (!RetryLoop.retriedStatus(code)) {
            LOG.warn("report: {} answered HTTP {}; not retrying{}", Redact.url(url), code,
                    code == 401 || code == 403 ? " (is the report token right?)" : "");
            return Outcome.done(null);
        }
        LOG.debug("report: {} answered HTTP {} (attempt {})", Redact.url(url), code, attempt);
        return Outcome.retry(new Busy(code));
    }

    /** The loop stopped before the report was delivered. */
    private Void lost(RetryLoop.Stop stop) {
        Exception last = stop.lastFailure().orElse(null);
        switch (stop.reason()) {
            case INTERRUPTED -> LOG.warn("report: interrupted while waiting to send to {} again; the report is lost",
                    Redact.url(url));
            case DEADLINE -> LOG.warn("report: {} {}; what is left of the reporting budget cannot hold another "
                    + "attempt, the report is lost", Redact.url(url), describe(last));
            default -> {
                if (last instanceof Busy b) {
                    LOG.warn("report: {} answered HTTP {} {} times; the report is lost", Redact.url(url), b.code,
                            stop.attempts());
                } else {
                    LOG.warn("report: could not reach {}: {}", Redact.url(url), last == null ? "" : last.getMessage());
                }
            }
        }
        return null;
    }

    private static String describe(Exception last) {
        return last instanceof Busy b ? "answered HTTP " + b.code : "could not be reached ("
                + (last == null ? "" : last.getMessage()) + ")";
    }

    /** A busy answer (a status {@link RetryLoop#retriedStatus} retries). */
    private static final class Busy extends Exception {
        private static final long serialVersionUID = 1L;
        final int code;

        Busy(int code) {
            super("HTTP " + code, null, false, false);
            this.code = code;
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
