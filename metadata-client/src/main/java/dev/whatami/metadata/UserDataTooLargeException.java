package dev.whatami.metadata;

import java.net.URI;

/**
 * The user-data is larger than {@link MetadataClient#MAX_USER_DATA_BYTES}: the service answered, but what it holds
 * cannot be valid user-data ({@link Reason#USER_DATA_TOO_LARGE}). Reading stopped at the limit; the connection was
 * cut, not drained. The agent reports it as invalid user-data, not as an unreachable service.
 */
public class UserDataTooLargeException extends MetadataException {
    private static final long serialVersionUID = 1L;

    private final long limit;

    public UserDataTooLargeException(String message, URI url, long limit) {
        super(Reason.USER_DATA_TOO_LARGE, message, url, 1, null);
        this.limit = limit;
    }

    /** The limit that was exceeded, in bytes. */
    public long limit() {
        return limit;
    }
}
