package dev.whatami.fetch;

import java.net.URI;

/** A script could not be fetched, or was refused. The message names the URL and what to change. */
public class FetchException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient URI url;
    private final int attempts;

    public FetchException(String message, URI url, int attempts, Throwable cause) {
        super(message, cause);
        this.url = url;
        this.attempts = attempts;
    }

    /** The (primary) URL that failed. */
    public URI url() {
        return url;
    }

    /** Attempts made over every URL before giving up. */
    public int attempts() {
        return attempts;
    }
}
