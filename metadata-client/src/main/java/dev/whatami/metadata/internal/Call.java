package dev.whatami.metadata.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * One public call of the client ({@code userData()}, {@code identity()}): its deadline, and what it learned about
 * IMDSv2 on the way. A v1 fallback is remembered here, and so lasts one call. Confined to the calling thread.
 */
final class Call {
    final Instant start;
    final Instant deadline;
    private final Clock clock;
    /** This call reads with IMDSv1 (the token request timed out or is not offered). */
    boolean v1;
    /** The service answered 401 without a token: this call needs one, however long it takes. */
    boolean v2Needed;
    /** Fresh tokens refused (401) during this call. */
    int tokenRejections;

    Call(Clock clock, Duration deadline) {
        this.clock = clock;
        this.start = clock.instant();
        this.deadline = start.plus(deadline);
    }

    /** Time left before the deadline (zero or more). */
    Duration timeLeft() {
        Duration d = Duration.between(clock.instant(), deadline);
        return d.isNegative() ? Duration.ZERO : d;
    }
}
