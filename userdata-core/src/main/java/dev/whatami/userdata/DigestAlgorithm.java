package dev.whatami.userdata;

/** The digest algorithms a task may be pinned with. */
public enum DigestAlgorithm {
    SHA256("sha256", "SHA-256", 64),
    SHA512("sha512", "SHA-512", 128);

    private final String key;
    private final String jcaName;
    private final int hexLength;

    DigestAlgorithm(String key, String jcaName, int hexLength) {
        this.key = key;
        this.jcaName = jcaName;
        this.hexLength = hexLength;
    }

    /** The user-data key, e.g. {@code sha256}. */
    public String key() {
        return key;
    }

    /** The name {@link java.security.MessageDigest#getInstance(String)} knows. */
    public String jcaName() {
        return jcaName;
    }

    /** Number of hex digits in a digest of this kind. */
    public int hexLength() {
        return hexLength;
    }
}
