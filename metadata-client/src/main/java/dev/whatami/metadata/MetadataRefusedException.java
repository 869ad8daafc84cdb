package dev.whatami.metadata;

import java.net.URI;

/**
 * The metadata service answered, but refused, or the client's own settings refuse to ask it: disabled, IMDSv2 not
 * offered while required, tokens refused, 403 or another 4xx that retrying won't fix ({@link Reason#EC2_DISABLED},
 * {@link Reason#SERVICE_DISABLED}, {@link Reason#IMDS_V2_UNAVAILABLE}, {@link Reason#TOKEN_REJECTED},
 * {@link Reason#FORBIDDEN}, {@link Reason#REJECTED}).
 */
public class MetadataRefusedException extends MetadataException {
    private static final long serialVersionUID = 1L;

    public MetadataRefusedException(Reason reason, String message, URI url, int attempts, Throwable cause) {
        super(reason, message, url, attempts, cause);
    }
}
