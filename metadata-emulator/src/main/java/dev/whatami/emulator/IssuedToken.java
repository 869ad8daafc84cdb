package dev.whatami.emulator;

import java.time.Instant;
import java.util.Objects;

/**
 * A bearer token the emulator handed out (GCE service account, Azure managed identity).
 *
 * @param value      the token
 * @param audience   the Azure resource it is for, or the GCE service account's e-mail
 * @param expiration when it stops working
 */
public record IssuedToken(String value, String audience, Instant expiration) {
    public IssuedToken {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(audience, "audience");
        Objects.requireNonNull(expiration, "expiration");
    }

    /** Without the token itself. */
    @Override
    public String toString() {
        return "IssuedToken[audience=" + audience + ", expiration=" + expiration + "]";
    }
}
