package dev.whatami.emulator;

import java.time.Instant;
import java.util.Objects;

/**
 * Temporary credentials the emulated EC2 instance role hands out; tests compare them with what a client signed with.
 *
 * @param roleName        the role they belong to
 * @param accessKeyId     e.g. {@code ASIA…}
 * @param secretAccessKey the secret
 * @param sessionToken    the session token
 * @param expiration      when they stop working
 */
public record IssuedCredentials(String roleName, String accessKeyId, String secretAccessKey, String sessionToken,
                                Instant expiration) {
    public IssuedCredentials {
        Objects.requireNonNull(roleName, "roleName");
        Objects.requireNonNull(accessKeyId, "accessKeyId");
        Objects.requireNonNull(secretAccessKey, "secretAccessKey");
        Objects.requireNonNull(sessionToken, "sessionToken");
        Objects.requireNonNull(expiration, "expiration");
    }

    /** Without the secret and the token. */
    @Override
    public String toString() {
        return "IssuedCredentials[roleName=" + roleName + ", accessKeyId=" + accessKeyId + ", expiration="
                + expiration + "]";
    }
}
