package dev.whatami.agent;

/** The agent's exit codes, as DESIGN.md fixes them. */
public enum ExitCode {
    /** Every task succeeded or was skipped, or there was no user-data. */
    OK(0, "done"),
    /** A task failed (non-zero exit, timeout, or could not be started). */
    TASK_FAILED(1, "failed"),
    /** The user-data is invalid; nothing ran. */
    USER_DATA_INVALID(2, "invalid"),
    /** The metadata service could not be reached by the deadline. */
    METADATA_UNREACHABLE(3, "unreachable"),
    /** A script could not be fetched, or was refused. */
    FETCH_FAILED(4, "refused");

    private final int code;
    private final String state;

    ExitCode(int code, String state) {
        this.code = code;
        this.state = state;
    }

    /** The final {@code state} in status.json: done, failed, invalid, unreachable or refused. */
    public String state() {
        return state;
    }

    public int code() {
        return code;
    }
}
