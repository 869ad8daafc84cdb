package dev.whatami.metadata;

import java.net.URI;

/** The metadata service did not answer usefully before the deadline or the attempt limit. */
public class MetadataUnreachableException extends MetadataException {
    private static final long serialVersionUID = 1L;

    public MetadataUnreachableException(String message, URI url, int attempts, Throwable cause) {
        super(message, url, attempts, cause);
    }
}
