package dev.whatami.agent.cli;

/** The agent's exit codes: 0-4 for a run (docs/status.md), 5 for a status that cannot be read. */
public enum ExitCode {
    /** Every task succeeded or was skipped, or there was no user-data. */
    OK(0),
    /** A task failed (non-zero exit, timeout, or could not be started); or another agent holds the lock. */
    TASK_FAILED(1),
    /** The user-data is invalid (nothing ran), or the command line is. */
    USER_DATA_INVALID(2),
    /** The metadata service could not be reached by the deadline. */
    METADATA_UNREACHABLE(3),
    /** A script could not be fetched, or was refused; it never ran. */
    FETCH_FAILED(4),
    /** {@code status}: status.json exists but cannot be read (permissions, damage). */
    STATUS_UNREADABLE(5);

    private final int code;

    ExitCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
