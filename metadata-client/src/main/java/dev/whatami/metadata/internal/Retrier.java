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
import java.util.Optional;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs an attempt again after retryable failures, with the {@link RetryPolicy}'s backoff (or a longer
 * {@code Retry-After}), until its attempt limit or the call's deadline: no attempt starts that could not begin
 * before the deadline.
 */
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

    RetryPolicy policy() {
        return policy;
    }

    Clock clock() {
        return clock;
    }

    /** A new call under this policy's deadline. */
    Call newCall() {
        return new Call(clock, policy.deadline());
    }

    /** One try. Throws {@link IOException} or {@link RetryableStatusException} to be retried. */
    interface Attempt<T> {
        T run(int attempt) throws IOException, RetryableStatusException;
    }

    /**
     * Whether an answer's status is a passing condition worth asking again for: 5xx, 429 (too many requests) and 408
     * (the server gave up waiting for the request: a busy server just started, as in a herd of a thousand boots).
     */
    static boolean transientStatus(int status) {
        return status >= 500 || status == 429 || status == 408;
    }

    /** A status worth retrying: {@link #transientStatus}, or a 401 that a new token will cure. */
    static final class RetryableStatusException extends Exception {
        private static final long serialVersionUID = 1L;
        final transient Optional<Duration> retryAfter;

        RetryableStatusException(int status, String reason, Optional<Duration> retryAfter) {
            super("HTTP " + status + (reason == null || reason.isEmpty() ? "" : " " + reason));
            this.retryAfter = retryAfter;
        }
    }

    <T> T call(URI url, Call call, Attempt<T> attempt) {
        Exception last;
        int n = 0;
        while (true) {
            n++;
            try {
                return attempt.run(n);
            } catch (IOException | RetryableStatusException e) {
                last = e;
                LOG.debug("attempt {} on {} failed: {}", n, url, describe(e));
            } catch (MetadataException e) {
                throw e;
            }
            Duration wait = policy.delay(n, random);
            if (last instanceof RetryableStatusException r && r.retryAfter.isPresent()
                    && r.retryAfter.get().compareTo(wait) > 0) {
                wait = r.retryAfter.get();
            }
            Instant now = clock.instant();
            if (!policy.allowsAttempt(n) || !now.plus(wait).isBefore(call.deadline)) {
                throw new MetadataUnreachableException(MetadataException.Reason.UNREACHABLE, "no answer from " + url
                        + " after " + n + (n == 1 ? " attempt" : " attempts") + " over "
                        + seconds(Duration.between(call.start, now)) + " (deadline " + seconds(policy.deadline())
                        + "); last error: " + describe(last) + ". Check that the metadata service is reachable from "
                        + "this machine, or name the provider and the endpoint with MetadataClient.Builder's "
                        + "provider(...) and endpoint(...); retryPolicy(...) sets the deadline.", url, n, last);
            }
            try {
                sleeper.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new MetadataUnreachableException(MetadataException.Reason.INTERRUPTED,
                        "interrupted while waiting to retry " + url, url, n, e);
            }
        }
    }

    static String seconds(Duration d) {
        return String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    static String describe(Exception e) {
        if (e instanceof RetryableStatusException) {
            return e.getMessage();
        }
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }
}
