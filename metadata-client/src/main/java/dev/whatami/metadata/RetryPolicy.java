package dev.whatami.metadata;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * The one retry policy of whatami — metadata calls, detection, script fetches and reports all retry with it, through
 * the one {@link RetryLoop}: exponential backoff from {@link #baseDelay()} doubling up to {@link #maxDelay()}, with
 * full jitter unless turned off, until {@link #maxAttempts()} attempts were made or {@link #deadline()} has passed
 * since the first one, whichever comes first. Which failures are worth another attempt is the caller's business, with
 * {@link RetryLoop#retriedStatus(int)} the rule for HTTP statuses (the metadata client retries I/O errors, timeouts,
 * 5xx, 429 and 408, honouring {@code Retry-After}).
 *
 * <pre>{@code
 * RetryPolicy p = RetryPolicy.builder().deadline(Duration.ofSeconds(30)).build();
 * Duration wait = p.delay(attempt, random);   // before attempt + 1, after `attempt` failed
 * }</pre>
 *
 * An immutable value: equal when every setting is equal; thread-safe.
 */
public final class RetryPolicy {
    private final int maxAttempts;
    private final Duration baseDelay;
    private final Duration maxDelay;
    private final Duration deadline;
    private final boolean jitter;

    private RetryPolicy(Builder b) {
        this.maxAttempts = b.maxAttempts;
        this.baseDelay = b.baseDelay;
        this.maxDelay = b.maxDelay;
        this.deadline = b.deadline;
        this.jitter = b.jitter;
    }

    /** The defaults: no attempt limit, 100 ms doubling to 2 s, full jitter, 120 s deadline. */
    public static RetryPolicy defaults() {
        return builder().build();
    }

    /** A single attempt (otherwise the defaults); for tests and for callers that retry themselves. */
    public static RetryPolicy none() {
        return builder().maxAttempts(1).build();
    }

    /** A builder with every setting at its default. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this policy's settings. */
    public Builder toBuilder() {
        return new Builder().maxAttempts(maxAttempts).baseDelay(baseDelay).maxDelay(maxDelay).deadline(deadline)
                .jitter(jitter);
    }

    /** Most attempts in all, the first included; {@link Integer#MAX_VALUE} means no limit but the deadline. */
    public int maxAttempts() {
        return maxAttempts;
    }

    /** The ceiling of the first wait. */
    public Duration baseDelay() {
        return baseDelay;
    }

    /** The longest wait. */
    public Duration maxDelay() {
        return maxDelay;
    }

    /** Time from the start of the first attempt after which no new attempt starts (one in progress is aborted). */
    public Duration deadline() {
        return deadline;
    }

    /** Whether waits are jittered (uniform in [0, ceiling]) rather than the ceiling itself. */
    public boolean jitter() {
        return jitter;
    }

    /** Whether another attempt may start after {@code attempts} were made (the deadline aside). */
    public boolean allowsAttempt(int attempts) {
        return attempts < maxAttempts;
    }

    /**
     * The longest wait before attempt {@code attempt + 1}, after {@code attempt} attempts failed:
     * {@code min(maxDelay, baseDelay * 2^(attempt-1))}. With jitter the actual wait is uniform in [0, this].
     */
    public Duration backoffCeiling(int attempt) {
        int shift = Math.min(Math.max(attempt - 1, 0), 30);
        Duration d = baseDelay.multipliedBy(1L << shift);
        return d.compareTo(maxDelay) > 0 ? maxDelay : d;
    }

    /**
     * The wait before attempt {@code attempt + 1}, after {@code attempt} attempts failed: with jitter, uniform in
     * [0, {@link #backoffCeiling(int) backoffCeiling(attempt)}] drawn from {@code random} (full jitter, as the AWS
     * SDKs do); without, the ceiling itself.
     */
    public Duration delay(int attempt, RandomGenerator random) {
        Objects.requireNonNull(random, "random");
        Duration ceiling = backoffCeiling(attempt);
        return jitter ? Duration.ofNanos((long) (random.nextDouble() * ceiling.toNanos())) : ceiling;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RetryPolicy p && maxAttempts == p.maxAttempts && jitter == p.jitter
                && baseDelay.equals(p.baseDelay) && maxDelay.equals(p.maxDelay) && deadline.equals(p.deadline);
    }

    @Override
    public int hashCode() {
        return Objects.hash(maxAttempts, baseDelay, maxDelay, deadline, jitter);
    }

    @Override
    public String toString() {
        return "RetryPolicy[maxAttempts=" + (maxAttempts == Integer.MAX_VALUE ? "unlimited" : maxAttempts)
                + ", baseDelay=" + baseDelay + ", maxDelay=" + maxDelay + ", deadline=" + deadline + ", jitter="
                + jitter + "]";
    }

    /** Builds a {@link RetryPolicy}; every setting starts at its default. Not thread-safe. */
    public static final class Builder {
        private int maxAttempts = Integer.MAX_VALUE;
        private Duration baseDelay = Duration.ofMillis(100);
        private Duration maxDelay = Duration.ofSeconds(2);
        private Duration deadline = Duration.ofSeconds(120);
        private boolean jitter = true;

        private Builder() {
        }

        /** Most attempts in all. Default: unlimited (the deadline decides). */
        public Builder maxAttempts(int maxAttempts) {
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be >= 1, got " + maxAttempts);
            }
            this.maxAttempts = maxAttempts;
            return this;
        }

        /** First wait. Default: 100 ms. */
        public Builder baseDelay(Duration baseDelay) {
            this.baseDelay = positive(baseDelay, "baseDelay");
            return this;
        }

        /** Longest wait. Default: 2 s. */
        public Builder maxDelay(Duration maxDelay) {
            this.maxDelay = positive(maxDelay, "maxDelay");
            return this;
        }

        /** Time from the first attempt after which no new attempt starts. Default: 120 s. */
        public Builder deadline(Duration deadline) {
            this.deadline = positive(deadline, "deadline");
            return this;
        }

        /** Full jitter: wait a uniformly random part of the backoff. Default: on. */
        public Builder jitter(boolean jitter) {
            this.jitter = jitter;
            return this;
        }

        /**
         * The policy.
         *
         * @throws IllegalArgumentException when {@code maxDelay} is less than {@code baseDelay}
         */
        public RetryPolicy build() {
            if (maxDelay.compareTo(baseDelay) < 0) {
                throw new IllegalArgumentException("maxDelay (" + maxDelay + ") must not be less than baseDelay ("
                        + baseDelay + ")");
            }
            return new RetryPolicy(this);
        }

        private static Duration positive(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + d);
            }
            return d;
        }
    }
}
