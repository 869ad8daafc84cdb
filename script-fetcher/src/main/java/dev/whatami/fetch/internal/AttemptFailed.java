package dev.whatami.fetch.internal;

import dev.whatami.fetch.FetchFailure;
import dev.whatami.fetch.FetchRefusedException;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/** One attempt on one URL failed; says whether that URL is worth another attempt, and when. */
final class AttemptFailed extends Exception {
    private static final long serialVersionUID = 1L;
    private static final Set<FetchFailure> RETRIED = EnumSet.of(FetchFailure.UNREACHABLE, FetchFailure.TIMEOUT,
            FetchFailure.SERVER_ERROR, FetchFailure.TOO_MANY_REQUESTS);

    final FetchFailure failure;
    final transient Optional<Duration> retryAfter;
    final transient FetchRefusedException refusal;

    /** @param message what happened on this URL, secrets removed, e.g. "HTTP 503 Service Unavailable" */
    AttemptFailed(FetchFailure failure, String message, Throwable cause) {
        this(failure, message, cause, Optional.empty(), null);
    }

    private AttemptFailed(FetchFailure failure, String message, Throwable cause, Optional<Duration> retryAfter,
                          FetchRefusedException refusal) {
        super(message, cause, false, false);
        this.failure = failure;
        this.retryAfter = retryAfter;
        this.refusal = refusal;
    }

    static AttemptFailed status(FetchFailure failure, String message, Optional<Duration> retryAfter) {
        return new AttemptFailed(failure, message, null, retryAfter, null);
    }

    /** The bytes, or the URL, are refused: see the refusal for why. */
    static AttemptFailed refused(FetchRefusedException refusal, String shortMessage) {
        return new AttemptFailed(FetchFailure.REFUSED, shortMessage, null, Optional.empty(), refusal);
    }

    /** The same failure, its message prefixed (e.g. with which of the two files it was about). */
    AttemptFailed prefixed(String prefix) {
        return new AttemptFailed(failure, prefix + getMessage(), getCause(), retryAfter, refusal);
    }

    /** The same failure, its message suffixed. */
    AttemptFailed suffixed(String suffix) {
        return new AttemptFailed(failure, getMessage() + suffix, getCause(), retryAfter, refusal);
    }

    /** Worth another attempt on the same URL after a backoff. */
    boolean retried() {
        return RETRIED.contains(failure);
    }

    /** Ends the whole fetch at once (this machine's disk, an interrupt): no other URL would fare better. */
    boolean endsFetch() {
        return failure == FetchFailure.LOCAL_IO || failure == FetchFailure.INTERRUPTED;
    }
}
