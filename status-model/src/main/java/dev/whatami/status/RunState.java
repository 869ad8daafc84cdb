package dev.whatami.status;

import java.util.Arrays;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Where a run stands, as {@code status.json}'s {@code state} spells it. A finished run's state fixes the agent's exit
 * code ({@link #exitCode()}).
 */
public enum RunState {
    /** The agent is working (or was killed while working: see {@link #INTERRUPTED}). */
    RUNNING("running", -1),
    /** Every task succeeded or was skipped, or there was nothing to do. Exit 0. */
    DONE("done", 0),
    /** A task ran and failed (non-zero exit, timeout, killed), or could not be started. Exit 1. */
    FAILED("failed", 1),
    /** The user-data is invalid; nothing ran. Exit 2. */
    INVALID("invalid", 2),
    /** The metadata service did not answer by the deadline, or refused. Exit 3. */
    UNREACHABLE("unreachable", 3),
    /** A script could not be fetched (file server, mirror or signature unreachable); it never ran. Exit 4. */
    NOT_FETCHED("not-fetched", 4),
    /** A script was refused (pin or signature mismatch, policy); it never ran. Exit 4. */
    REFUSED("refused", 4),
    /**
     * Seen by a reader, never written by the agent: the file says {@code running} but the agent's process is gone
     * (killed, or the machine lost power). Exit 1.
     */
    INTERRUPTED("interrupted", 1);

    private final String token;
    private final int exitCode;

    RunState(String token, int exitCode) {
        this.token = token;
        this.exitCode = exitCode;
    }

    /** The spelling in JSON, e.g. {@code not-fetched}. */
    public String token() {
        return token;
    }

    /** The agent's exit code for this state; empty for {@link #RUNNING}. */
    public OptionalInt exitCode() {
        return exitCode < 0 ? OptionalInt.empty() : OptionalInt.of(exitCode);
    }

    /** Whether the run has ended in this state. */
    public boolean finished() {
        return this != RUNNING;
    }

    /** The state spelled {@code token}. */
    public static Optional<RunState> fromToken(String token) {
        return Arrays.stream(values()).filter(s -> s.token.equals(token)).findFirst();
    }
}
