package dev.whatami.status;

/**
 * A status document or report that cannot be read: not JSON, or a field of the wrong type or out of bounds. The
 * message names the field ({@code tasks[2].state}) and what it must be.
 */
public class StatusFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StatusFormatException(String message) {
        super(message);
    }

    public StatusFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
