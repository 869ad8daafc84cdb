package dev.whatami.metadata.internal;

import dev.whatami.metadata.MetadataException;
import dev.whatami.metadata.MetadataUnreachableException;
import dev.whatami.metadata.RetryPolicy;
import dev.whatami.metadata.Sleeper;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs an attempt again after retryable failures, with backoff, until the policy's limits. */
final class Retrier {
    private static final Logger LOG = LoggerFactory.getLogger(Retrier.class);

    private final RetryPolicy policy;
    private final Clock clock;
    private final Sleeper sleeper;
    private final RandomGenerator random;

    Retrier(RetryPolicy policy, Clock clock, Sleeper sleeper, RandomGenerator random) {
        this.policy = policy;
        this.clock = clock;
        this.sleeper = sleeper;
        this.random = random;
    }

    /** One try. Throws {@link IOException} or {@link RetryableStatusException} to be retried. */
    interface Attempt<T> {
        T run(int attempt) throws IOException, RetryableStatusException;
    }

    /** A status worth retrying: 5xx or 429. */
    static final class RetryableStatusException extends Exception {
        private static final long serialVersionUID = 1L;

        RetryableStatusException(int status, String reason) {
            super("HTTP " + status + (reason == null || reason.isEmpty() ? "" : " " + reason));
        }
    }

    <T> T call(URI url, Attempt<T> attempt) {
        Instant start = clock.instant();
        Instant deadline = start.plus(policy.deadline());
        Exception last = null;
        int n = 0;
        while (true) {
            n++;
            try {
                return attempt.run(n);
            } catch (IOException | RetryableStatusException e) {
                last = e;
                LOG.debug("attempt {} on {} failed: {}", n, url, e.toString());
            } catch (MetadataException e) {
                throw e;
            }
            Duration ceiling = policy.backoffCeiling(n);
            Duration wait = policy.jitter() ? Duration.ofNanos((long) (random.nextDouble() * ceiling.toNanos()))
                    : ceiling;
            Instant now = clock.instant();
            if (n >= policy.maxAttempts() || now.plus(wait).isAfter(deadline)) {
                Duration elapsed = Duration.between(start, now);
                throw new MetadataUnreachableException("no answer from " + url + " after " + n
                        + (n == 1 ? " attempt" : " attempts") + " over " + seconds(elapsed) + " (deadline "
                        + seconds(policy.deadline()) + "); last error: " + describe(last) + ". Check that the "
                        + "metadata service is reachable from this machine, or choose the provider and endpoint "
                        + "with --provider / --metadata-endpoint.", url, n, last);
            }
            try {
                sleeper.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new MetadataUnreachableException("interrupted while waiting to retry " + url, url, n, e);
            }
        }
    }

    private static String seconds(Duration d) {
        return String.format("%.1f s", d.toMillis() / 1000.0);
    }

    static String describe(Exception e) {
        if (e instanceof RetryableStatusException) {
            return e.getMessage();
        }
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }
}
