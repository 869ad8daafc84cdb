package dev.whatami.status;

import java.util.Arrays;
import java.util.Optional;

/**
 * Why a script may be believed, strongest first: what the script fetcher found when it placed the file, and what
 * {@code status.json}'s {@code trust} says of a task that ran.
 */
public enum Trust {
    /** An Ed25519 signature from a trusted key verified over the exact bytes. */
    SIGNATURE("signature"),
    /** The bytes match a {@code sha256=}/{@code sha512=} pin from the user-data. */
    PIN("pin"),
    /** Carried inside the user-data itself: as trustworthy as the metadata service that delivered it. */
    USER_DATA("user-data"),
    /** Fetched over https with a verified certificate; nothing vouches for the content itself. */
    TRANSPORT("https"),
    /** Plain http or a local file with neither pin nor signature: anyone on the path could have changed it. */
    NONE("none");

    private final String token;

    Trust(String token) {
        this.token = token;
    }

    /** The spelling in logs and JSON, e.g. {@code pin}. */
    public String token() {
        return token;
    }

    /** The trust spelled {@code token}. */
    public static Optional<Trust> fromToken(String token) {
        return Arrays.stream(values()).filter(t -> t.token.equals(token)).findFirst();
    }
}
