package dev.whatami.run;

/** A script could not be started at all (no interpreter, unreadable file). The message says what to change. */
public class TaskRunException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TaskRunException(String message, Throwable cause) {
        super(message, cause);
    }
}
