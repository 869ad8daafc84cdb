package dev.whatami.metadata;

import java.net.URI;

/**
 * The metadata service did not answer usefully before the deadline or the attempt limit, or none was found
 * ({@link Reason#UNREACHABLE}, {@link Reason#NOT_DETECTED}, {@link Reason#INTERRUPTED},
 * {@link Reason#LOCAL_SOURCE_UNREADABLE}).
 */
public class MetadataUnreachableException extends MetadataException {
    private static final long serialVersionUID = 1L;

    public MetadataUnreachableException(Reason reason, String message, URI url, int attempts, Throwable cause) {
        super(reason, message, url, attempts, cause);
    }
}
