package dev.whatami.boot;

import dev.whatami.metadata.RetryLoop;
import dev.whatami.metadata.RetryPolicy;
import java.time.Duration;
import java.util.Objects;

/**
 * How the agent's phone-home report is retried and timed, given the run's report budget: at most 6 attempts, 200 ms
 * doubling to 2 s with full jitter, none started after the budget, each connection and each read given at most
 * {@link #perCallTimeout} (3 s, or the budget when shorter, at least 100 ms). The one place this is decided: the
 * agent's {@code Reporter} and {@code bench/Herd.java} (which simulates a thousand agents) both take it from here.
 * Immutable; thread-safe.
 *
 * @param retry          the retry policy; its deadline is the budget
 * @param perCallTimeout the connect and socket timeout of the report's HTTP client
 */
public record ReportPolicy(RetryPolicy retry, Duration perCallTimeout) {
    /** The report budget when none is configured: the CLI's {@code --report-budget} default. */
    public static final Duration DEFAULT_BUDGET = Duration.ofSeconds(30);

    private static final long LONGEST_CALL_MS = 3000;
    private static final long SHORTEST_CALL_MS = 100;

    /** Checks its parts. */
    public ReportPolicy {
        Objects.requireNonNull(retry, "retry");
        Objects.requireNonNull(perCallTimeout, "perCallTimeout");
    }

    /**
     * Whether a report answered {@code status} (not 2xx) is sent again: 5xx, 429, and 408 (a busy server gave up
     * waiting); any other answer is a refusal. The rule of every retry, {@link RetryLoop#retriedStatus(int)}.
     */
    public static boolean retried(int status) {
        return RetryLoop.retriedStatus(status);
    }

    /**
     * The policy for a run whose reporting may take {@code budget} in all (the time spent reporting, across every
     * report of the run).
     *
     * @param budget positive
     * @return the policy and the per-call timeout for that budget
     * @throws IllegalArgumentException if the budget is zero or negative
     */
    public static ReportPolicy forBudget(Duration budget) {
        Objects.requireNonNull(budget, "budget");
        if (budget.isNegative() || budget.isZero()) {
            throw new IllegalArgumentException("the report budget must be positive, got " + budget);
        }
        Duration perCall = Duration.ofMillis(Math.min(LONGEST_CALL_MS, Math.max(SHORTEST_CALL_MS, budget.toMillis())));
        RetryPolicy retry = RetryPolicy.builder().maxAttempts(6).baseDelay(Duration.ofMillis(200))
                .maxDelay(Duration.ofSeconds(2)).deadline(budget).build();
        return new ReportPolicy(retry, perCall);
    }
}
