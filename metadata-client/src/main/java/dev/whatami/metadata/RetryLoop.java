package dev.whatami.metadata;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one retry loop of whatami — metadata calls, cloud detection, script fetches and reports all retry through it:
 * run an attempt; after a failure worth another one, wait the {@link RetryPolicy}'s backoff (or longer, when the
 * failure asks for it, as {@code Retry-After} does) and run the next, until the policy's attempt limit or the run's
 * deadline. No attempt starts after a wait that would end at or past the deadline: the loop gives up at once instead.
 * The first attempt always runs.
 *
 * <p>What counts as "worth another attempt" is the attempt's answer ({@link Outcome#retry}); an exception it throws
 * ends the loop at once and reaches the caller as it is. For HTTP answers, {@link #retriedStatus(int)} is the rule.
 *
 * <pre>{@code
 * RetryLoop loop = RetryLoop.of(policy, clock, sleeper, random);
 * String body = loop.run(clock.instant().plus(policy.deadline()), attempt -> {
 *     try {
 *         return Outcome.done(get(url));
 *     } catch (IOException e) {
 *         return Outcome.retry(e);
 *     }
 * }, stop -> { throw new MyException("no answer after " + stop.attempts() + " attempts", stop.cause()); });
 * }</pre>
 *
 * Immutable; thread-safe when its clock, sleeper and randomness are (the defaults are).
 */
public final class RetryLoop {
    private static final Logger LOG = LoggerFactory.getLogger(RetryLoop.class);

    /** The default randomness: each thread's own {@link ThreadLocalRandom}, so one loop may serve many threads. */
    private static final RandomGenerator THREAD_LOCAL = () -> ThreadLocalRandom.current().nextLong();

    private final RetryPolicy policy;
    private final Clock clock;
    private final Sleeper sleeper;
    private final RandomGenerator random;

    private RetryLoop(RetryPolicy policy, Clock clock, Sleeper sleeper, RandomGenerator random) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
        this.random = Objects.requireNonNull(random, "random");
    }

    /**
     * A loop under {@code policy}.
     *
     * @param clock   what deadlines are measured on ({@link Clock#systemUTC()} for real)
     * @param sleeper waits between attempts ({@link Sleeper#SYSTEM} for real; tests give one that moves a fake clock)
     * @param random  randomness for the policy's jitter, used by every thread that runs the loop (unused when the
     *                policy has no jitter)
     */
    public static RetryLoop of(RetryPolicy policy, Clock clock, Sleeper sleeper, RandomGenerator random) {
        return new RetryLoop(policy, clock, sleeper, random);
    }

    /**
     * A loop under {@code policy} whose jitter is drawn from each thread's own {@link ThreadLocalRandom}, so that it
     * may serve many threads; otherwise as {@link #of(RetryPolicy, Clock, Sleeper, RandomGenerator)}.
     */
    public static RetryLoop of(RetryPolicy policy, Clock clock, Sleeper sleeper) {
        return new RetryLoop(policy, clock, sleeper, THREAD_LOCAL);
    }

    /**
     * Whether an HTTP answer's status is a passing condition worth asking again for — the one rule every caller
     * applies: 5xx, 429 (too many requests) and 408 (the server gave up waiting for the request: a busy server just
     * started, as in a herd of a thousand boots). Any other status is an answer.
     */
    public static boolean retriedStatus(int status) {
        return status >= 500 || status == 429 || status == 408;
    }

    /** The policy this loop follows. */
    public RetryPolicy policy() {
        return policy;
    }

    /** The clock its deadlines are measured on. */
    public Clock clock() {
        return clock;
    }

    /**
     * Runs {@code attempt} (numbered from 1) until it is done, or the loop stops: the policy allows no further
     * attempt, the next one could not start before {@code deadline}, or the thread is interrupted while waiting (its
     * interrupt flag is set again). Then {@code giveUp} says what the run comes to: it returns a value, or throws
     * the caller's own exception.
     *
     * @param deadline after this instant no attempt starts (one in progress is the attempt's business)
     * @param attempt  one try; an exception it throws ends the run and is not caught
     * @param giveUp   what a run that stopped before success returns, or throws
     * @return the value of the attempt that was done, or what {@code giveUp} returned
     */
    public <T> T run(Instant deadline, Attempt<T> attempt, GiveUp<? extends T> giveUp) {
        Objects.requireNonNull(deadline, "deadline");
        Objects.requireNonNull(attempt, "attempt");
        Objects.requireNonNull(giveUp, "giveUp");
        for (int n = 1; ; n++) {
            Outcome<T> outcome = Objects.requireNonNull(attempt.run(n), "the attempt returned no outcome");
            if (outcome.done) {
                return outcome.value;
            }
            Duration wait = policy.delay(n, random);
            if (outcome.atLeast.compareTo(wait) > 0) {
                wait = outcome.atLeast;
            }
            if (!policy.allowsAttempt(n)) {
                return giveUp.gaveUp(new Stop(Stop.Reason.ATTEMPTS, n, outcome.cause, null));
            }
            if (!clock.instant().plus(wait).isBefore(deadline)) {
                return giveUp.gaveUp(new Stop(Stop.Reason.DEADLINE, n, outcome.cause, null));
            }
            if (LOG.isDebugEnabled()) {
                LOG.debug("waiting {} ms before attempt {}", wait.toMillis(), n + 1);
            }
            try {
                sleeper.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return giveUp.gaveUp(new Stop(Stop.Reason.INTERRUPTED, n, outcome.cause, e));
            }
        }
    }

    /** One try of a {@link RetryLoop#run run}. */
    @FunctionalInterface
    public interface Attempt<T> {
        /**
         * @param attempt the attempt's number, the first is 1
         * @return done with a value, or a failure worth another attempt
         */
        Outcome<T> run(int attempt);
    }

    /** What a run that stopped before success comes to. */
    @FunctionalInterface
    public interface GiveUp<T> {
        /** A value for the run, or throws the caller's own exception. */
        T gaveUp(Stop stop);
    }

    /** What one attempt came to: done with a value, or failed in a way worth another attempt. Immutable. */
    public static final class Outcome<T> {
        private final boolean done;
        private final T value;
        private final Exception cause;
        private final Duration atLeast;

        private Outcome(boolean done, T value, Exception cause, Duration atLeast) {
            this.done = done;
            this.value = value;
            this.cause = cause;
            this.atLeast = atLeast;
        }

        /** Done: the run returns {@code value} (which may be null). */
        public static <T> Outcome<T> done(T value) {
            return new Outcome<>(true, value, null, Duration.ZERO);
        }

        /** Failed, worth another attempt after the policy's backoff; {@code cause} may be null. */
        public static <T> Outcome<T> retry(Exception cause) {
            return new Outcome<>(false, null, cause, Duration.ZERO);
        }

        /**
         * Failed, worth another attempt after the policy's backoff or {@code atLeast}, whichever is longer (the
         * server's {@code Retry-After}); {@code cause} may be null.
         */
        public static <T> Outcome<T> retry(Exception cause, Duration atLeast) {
            Objects.requireNonNull(atLeast, "atLeast");
            return new Outcome<>(false, null, cause, atLeast.isNegative() ? Duration.ZERO : atLeast);
        }

        /** Whether the attempt was done. */
        public boolean isDone() {
            return done;
        }

        /** The failure of an attempt worth another one, when it named one. */
        public Optional<Exception> cause() {
            return Optional.ofNullable(cause);
        }

        /** The shortest wait before the next attempt the failure asked for; zero when it asked none. */
        public Duration atLeast() {
            return atLeast;
        }
    }

    /**
     * Why and when a run stopped before success.
     *
     * @param reason       why
     * @param attempts     how many attempts were made, at least 1
     * @param lastFailure  the last attempt's failure, when it named one
     * @param interruption the interrupt that ended the wait ({@link Reason#INTERRUPTED} only)
     */
    public record Stop(Reason reason, int attempts, Optional<Exception> lastFailure,
                       Optional<InterruptedException> interruption) {
        /** Why a run stopped. */
        public enum Reason {
            /** The policy's {@link RetryPolicy#maxAttempts() attempt limit} was reached. */
            ATTEMPTS,
            /** The next attempt could not start before the deadline. */
            DEADLINE,
            /** The thread was interrupted while waiting for the next attempt. */
            INTERRUPTED
        }

        /** Checks its parts. */
        public Stop {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(lastFailure, "lastFailure");
            Objects.requireNonNull(interruption, "interruption");
        }

        private Stop(Reason reason, int attempts, Exception lastFailure, InterruptedException interruption) {
            this(reason, attempts, Optional.ofNullable(lastFailure), Optional.ofNullable(interruption));
        }

        /** The interruption, else the last failure, else null: what to attach as an exception's cause. */
        public Throwable cause() {
            return interruption.<Throwable>map(e -> e).orElse(lastFailure.orElse(null));
        }
    }
}
