package dev.whatami.metadata;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Temporary AWS credentials, as the EC2 instance role hands them out, for signing requests (SigV4).
 * {@link #toString()} shows neither the secret nor the session token; never log them.
 *
 * @param accessKeyId     e.g. {@code ASIA…}
 * @param secretAccessKey the secret key
 * @param sessionToken    the session token ({@code x-amz-security-token}), present for role credentials
 * @param expiration      when they stop working, where known
 */
public record AwsCredentials(String accessKeyId, String secretAccessKey, Optional<String> sessionToken,
                             Optional<Instant> expiration) {
    public AwsCredentials {
        Objects.requireNonNull(accessKeyId, "accessKeyId");
        Objects.requireNonNull(secretAccessKey, "secretAccessKey");
        Objects.requireNonNull(sessionToken, "sessionToken");
        Objects.requireNonNull(expiration, "expiration");
        if (accessKeyId.isBlank() || secretAccessKey.isBlank()) {
            throw new IllegalArgumentException("accessKeyId and secretAccessKey must not be blank");
        }
    }

    /** The key id and expiry only. */
    @Override
    public String toString() {
        return "AwsCredentials[accessKeyId=" + accessKeyId + ", secretAccessKey=***, sessionToken="
                + (sessionToken.isPresent() ? "***" : "none") + ", expiration=" + expiration.map(Instant::toString)
                .orElse("none") + "]";
    }
}
