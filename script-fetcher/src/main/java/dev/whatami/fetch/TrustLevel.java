package dev.whatami.fetch;

/** Why a fetched script may be believed, strongest first. */
public enum TrustLevel {
    /**
     * An Ed25519 signature from a trusted key verified over the exact bytes, or a verified signed manifest that lists
     * the bytes' SHA-256 under the name they were asked for.
     */
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

    TrustLevel(String token) {
        this.token = token;
    }

    /** The spelling in logs and JSON, e.g. {@code pin}. */
    public String token() {
        return token;
    }
}
