package dev.whatami.agent;

/** The agent's exit codes, as DESIGN.md fixes them. */
public enum ExitCode {
    /** Every task succeeded or was skipped, or there was no user-data. */
    OK(0),
    /** A task failed (non-zero exit, timeout, or could not be started). */
    TASK_FAILED(1),
    /** The user-data is invalid; nothing ran. */
    USER_DATA_INVALID(2),
    /** The metadata service could not be reached by the deadline. */
    METADATA_UNREACHABLE(3),
    /** A script could not be fetched, or was refused. */
    FETCH_FAILED(4);

    private final int code;

    ExitCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
