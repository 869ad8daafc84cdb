package dev.whatami.server.access;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;

/**
 * A secret a request must carry, as {@code Authorization: Bearer <token>} (or, where {@link #basicToo} allows it, as
 * the password of {@code Authorization: Basic}, which a browser asks for). Compared in constant time; never shown.
 *
 * <p>Public for the upload and report handlers ({@code files}, {@code reports}); not an API.
 */
public final class BearerToken {
    private final byte[] expected;
    private final boolean basicToo;

    private BearerToken(String token, boolean basicToo) {
        this.expected = token.getBytes(StandardCharsets.UTF_8);
        this.basicToo = basicToo;
    }

    /** Only {@code Authorization: Bearer <token>}. */
    public static BearerToken bearer(String token) {
        return new BearerToken(token, false);
    }

    /** {@code Authorization: Bearer <token>}, or {@code Basic} with any user name and the token as password. */
    static BearerToken bearerOrBasic(String token) {
        return new BearerToken(token, true);
    }

    /** Whether the request carries the token. */
    public boolean presentIn(Request request) {
        String given = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (given == null) {
            return false;
        }
        byte[] candidate = new byte[0];
        if (given.regionMatches(true, 0, "Bearer ", 0, 7)) {
            candidate = given.substring(7).getBytes(StandardCharsets.UTF_8);
        } else if (basicToo && given.regionMatches(true, 0, "Basic ", 0, 6)) {
            try {
                String pair = new String(Base64.getDecoder().decode(given.substring(6).strip()), StandardCharsets.UTF_8);
                int colon = pair.indexOf(':');
                candidate = (colon < 0 ? "" : pair.substring(colon + 1)).getBytes(StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return false; // not base64: no token
            }
        }
        return MessageDigest.isEqual(candidate, expected); // constant time for equal lengths
    }
}
