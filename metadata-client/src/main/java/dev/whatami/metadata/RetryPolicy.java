package dev.whatami.metadata;

import java.time.Duration;
import java.util.Objects;

/**
 * How metadata calls are retried: exponential backoff, optionally with full jitter, until an attempt
 * count or an overall deadline runs out, whichever comes first. I/O errors, 5xx and 429 are retried;
 * other 4xx answers fail at once. Immutable.
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

    /** A single attempt; for tests and for callers that retry themselves. */
    public static RetryPolicy none() {
        return builder().maxAttempts(1).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().maxAttempts(maxAttempts).baseDelay(baseDelay).maxDelay(maxDelay).deadline(deadline)
                .jitter(jitter);
    }

    public int maxAttempts() {
        return maxAttempts;
    }

    public Duration baseDelay() {
        return baseDelay;
    }

    public Duration maxDelay() {
        return maxDelay;
    }

    public Duration deadline() {
        return deadline;
    }

    public boolean jitter() {
        return jitter;
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

    @Override
    public String toString() {
        return "RetryPolicy[maxAttempts=" + (maxAttempts == Integer.MAX_VALUE ? "unlimited" : maxAttempts)
                + ", baseDelay=" + baseDelay + ", maxDelay=" + maxDelay + ", deadline=" + deadline + ", jitter="
                + jitter + "]";
    }

    /** Builds {@link RetryPolicy}. */
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
