package dev.whatami.metadata;

import java.net.URI;
import java.util.Objects;
import java.util.Optional;

/**
 * Root of the metadata client's errors (unchecked). The message says what failed, with which value, and which
 * builder method changes it; {@link #reason()} says the same as a value, for callers that map errors to their own
 * vocabulary (the agent maps each reason to a command-line hint and an exit code).
 */
public class MetadataException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why a metadata call failed. */
    public enum Reason {
        /** No usable answer before the deadline or the attempt limit: I/O errors, timeouts, 5xx, 429, 408. */
        UNREACHABLE,
        /** {@code autoDetect()} found no metadata service within {@code detectionTimeout}. */
        NOT_DETECTED,
        /** The calling thread was interrupted. */
        INTERRUPTED,
        /** EC2 was asked for, but {@code ec2Disabled(true)} (or {@code AWS_EC2_METADATA_DISABLED=true}). */
        EC2_DISABLED,
        /** EC2 refused a session token with 403: the instance metadata service is turned off for this instance. */
        SERVICE_DISABLED,
        /** {@code imdsV2Required(true)} (or {@code AWS_EC2_METADATA_V1_DISABLED=true}), but the service offers no tokens. */
        IMDS_V2_UNAVAILABLE,
        /** The service kept refusing session tokens it had just handed out (401). */
        TOKEN_REJECTED,
        /** The service answered 403 for a value. */
        FORBIDDEN,
        /** The service answered another 4xx that retrying will not change. */
        REJECTED,
        /** The answer is unusable: an empty instance id, user-data that should be base64 and is not. */
        MALFORMED_ANSWER,
        /** An answer other than the user-data was larger than its limit. */
        ANSWER_TOO_LARGE,
        /** The user-data is larger than {@link MetadataClient#MAX_USER_DATA_BYTES} — see {@link UserDataTooLargeException}. */
        USER_DATA_TOO_LARGE,
        /** A local source ({@code noCloudSource}) cannot be read. */
        LOCAL_SOURCE_UNREADABLE
    }

    private final Reason reason;
    private final transient URI url;
    private final int attempts;

    /**
     * @param reason   why
     * @param message  what failed and what to change
     * @param url      the URL (or file) that failed, or null
     * @param attempts how many attempts were made
     * @param cause    the last underlying error, or null
     */
    public MetadataException(Reason reason, String message, URI url, int attempts, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.url = url;
        this.attempts = attempts;
    }

    /** Why the call failed. */
    public Reason reason() {
        return reason;
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
