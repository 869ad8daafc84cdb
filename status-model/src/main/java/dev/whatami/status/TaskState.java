package dev.whatami.status;

import java.util.Arrays;
import java.util.Optional;

/**
 * How one task of a run stands. Only {@link #FAILED} and {@link #TIMED_OUT} mean the script ran and failed, which is
 * what spends one of its {@code retries=}; {@link #NOT_FETCHED} and {@link #REFUSED} never ran it.
 */
public enum TaskState {
    /** Being fetched, verified or run now. */
    RUNNING("running"),
    /** It ran and exited 0 within its time. */
    SUCCEEDED("succeeded"),
    /** Not due: it already succeeded (per-instance, per-boot, once). */
    SKIPPED("skipped"),
    /** It ran and failed (exit code not 0, killed), or could not be started; or it failed before and may not run again. */
    FAILED("failed"),
    /** It ran past its {@code timeout=} and its process tree was killed. */
    TIMED_OUT("timed-out"),
    /** Its script could not be fetched (unreachable, timeout, 5xx, 404, TLS trust); tried again on the next run. */
    NOT_FETCHED("not-fetched"),
    /** Its script was refused (pin, signature, policy); never run unverified; tried again on the next boot. */
    REFUSED("refused"),
    /** Not attempted in this run because an earlier task did not succeed. */
    NOT_RUN("not-run");

    private final String token;

    TaskState(String token) {
        this.token = token;
    }

    /** The spelling in JSON, e.g. {@code timed-out}. */
    public String token() {
        return token;
    }

    /** Whether the script ran (or was started) in the attempt this state ends. */
    public boolean ran() {
        return this == SUCCEEDED || this == FAILED || this == TIMED_OUT;
    }

    /** The state spelled {@code token}; {@code fetch-failed} (written before 2026-12) reads as {@link #NOT_FETCHED}. */
    public static Optional<TaskState> fromToken(String token) {
        if ("fetch-failed".equals(token)) {
            return Optional.of(NOT_FETCHED);
        }
        return Arrays.stream(values()).filter(s -> s.token.equals(token)).findFirst();
    }
}
