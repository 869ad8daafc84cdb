package dev.whatami.metadata;

import java.net.URI;

/**
 * The metadata service answered with something unusable: an empty instance id, bad base64, an oversized value
 * ({@link Reason#MALFORMED_ANSWER}, {@link Reason#ANSWER_TOO_LARGE}).
 */
public class MetadataProtocolException extends MetadataException {
    private static final long serialVersionUID = 1L;

    public MetadataProtocolException(Reason reason, String message, URI url, int attempts, Throwable cause) {
        super(reason, message, url, attempts, cause);
    }
}
