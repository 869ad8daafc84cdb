package dev.whatami.metadata;

import java.net.URI;
import java.util.Optional;

/** Root of the metadata client's errors. The message says what failed and what to change. */
public class MetadataException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient URI url;
    private final int attempts;

    public MetadataException(String message, URI url, int attempts, Throwable cause) {
        super(message, cause);
        this.url = url;
        this.attempts = attempts;
    }

    /** The URL (or file) that failed, if any. */
    public Optional<URI> url() {
        return Optional.ofNullable(url);
    }

    /** How many attempts were made before giving up. */
    public int attempts() {
        return attempts;
    }
}
