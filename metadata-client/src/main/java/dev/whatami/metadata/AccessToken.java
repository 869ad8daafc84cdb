package dev.whatami.metadata;

import java.time.Instant;
import java.util.Objects;

/**
 * A bearer token for a cloud API (a GCE service account's, an Azure managed identity's), sent as
 * {@code Authorization: Bearer <value>}. {@link #toString()} does not show the value; never log it.
 *
 * @param value      the token
 * @param expiration when it stops working
 */
public record AccessToken(String value, Instant expiration) {
    public AccessToken {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(expiration, "expiration");
        if (value.isBlank()) {
            throw new IllegalArgumentException("an access token must not be blank");
        }
    }

    /** The expiry only. */
    @Override
    public String toString() {
        return "AccessToken[value=***, expiration=" + expiration + "]";
    }
}
