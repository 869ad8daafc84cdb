package dev.whatami.metadata.internal;

import dev.whatami.metadata.MetadataException;
import dev.whatami.metadata.MetadataUnreachableException;
import dev.whatami.metadata.RetryLoop;
import dev.whatami.metadata.RetryLoop.Outcome;
import dev.whatami.metadata.RetryPolicy;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The metadata client's use of the {@link RetryLoop}: I/O errors and {@link RetryableStatusException} are retried
 * (honouring {@code Retry-After}) until the policy's attempt limit or the call's deadline; the loop's end becomes a
 * {@link MetadataUnreachableException} that says what was tried and what to change.
 */
final class Retrier {
    private static final Logger LOG = LoggerFactory.getLogger(Retrier.class);

    private final RetryLoop loop;

    Retrier(RetryLoop loop) {
        this.loop = loop;
    }

    RetryPolicy policy() {
        return loop.policy();
    }

    Clock clock() {
        return loop.clock();
    }

    /** A new call under this policy's deadline. */
    Call newCall() {
        return new Call(clock(), policy().deadline());
    }

    /** One try. Throws {@link IOException} or {@link RetryableStatusException} to be retried. */
    interface Attempt<T> {
        T run(int attempt) throws IOException, RetryableStatusException;
    }

    /** A status worth retrying: {@link RetryLoop#retriedStatus}, or a 401 that a new token will cure. */
    static final class RetryableStatusException extends Exception {
        private static final long serialVersionUID = 1L;
        final transient Optional<Duration> retryAfter;

        RetryableStatusException(int status, String reason, Optional<Duration> retryAfter) {
            super("HTTP " + status + (reason == null || reason.isEmpty() ? "" : " " + reason));
            this.retryAfter = retryAfter;
        }
    }

    <T> T call(URI url, Call call, Attempt<T> attempt) {
        return loop.run(call.deadline, n -> {
            try {
                return Outcome.done(attempt.run(n));
            } catch (IOException | RetryableStatusException e) {
                LOG.debug("attempt {} on {} failed: {}", n, url, describe(e));
                return e instanceof RetryableStatusException r && r.retryAfter.isPresent()
                        ? Outcome.retry(e, r.retryAfter.get()) : Outcome.retry(e);
            }
        }, stop -> {
            int n = stop.attempts();
            if (stop.reason() == RetryLoop.Stop.Reason.INTERRUPTED) {
                throw new MetadataUnreachableException(MetadataException.Reason.INTERRUPTED,
                        "interrupted while waiting to retry " + url, url, n, stop.cause());
            }
            Exception last = stop.lastFailure().orElseThrow();
            throw new MetadataUnreachableException(MetadataException.Reason.UNREACHABLE, "no answer from " + url
                    + " after " + n + (n == 1 ? " attempt" : " attempts") + " over "
                    + seconds(Duration.between(call.start, clock().instant())) + " (deadline "
                    + seconds(policy().deadline()) + "); last error: " + describe(last) + ". Check that the metadata "
                    + "service is reachable from this machine, or name the provider and the endpoint with "
                    + "MetadataClient.Builder's provider(...) and endpoint(...); retryPolicy(...) sets the deadline.",
                    url, n, last);
        });
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
