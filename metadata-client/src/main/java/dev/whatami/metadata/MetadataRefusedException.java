package dev.whatami.metadata;

import java.net.URI;

/** The metadata service answered, but refused: disabled (403), unauthorized, or a 4xx that retrying won't fix. */
public class MetadataRefusedException extends MetadataException {
    private static final long serialVersionUID = 1L;

    public MetadataRefusedException(String message, URI url, int attempts, Throwable cause) {
        super(message, url, attempts, cause);
    }
}
