package dev.whatami.metadata;

import java.net.URI;

/** The metadata service answered with something malformed (an empty instance id, an oversized body). */
public class MetadataProtocolException extends MetadataException {
    private static final long serialVersionUID = 1L;

    public MetadataProtocolException(String message, URI url, int attempts, Throwable cause) {
        super(message, url, attempts, cause);
    }
}
