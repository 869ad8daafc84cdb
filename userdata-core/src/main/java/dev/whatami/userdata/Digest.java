package dev.whatami.userdata;

import java.util.Locale;
import java.util.Objects;

/**
 * An expected digest of a script, e.g. {@code sha256=9f86d0…}. The hex is stored in lower case.
 *
 * @param algorithm which digest
 * @param hex       the digest in hexadecimal, exactly {@link DigestAlgorithm#hexLength()} digits
 */
public record Digest(DigestAlgorithm algorithm, String hex) {
    public Digest {
        Objects.requireNonNull(algorithm, "algorithm");
        Objects.requireNonNull(hex, "hex");
        hex = hex.toLowerCase(Locale.ROOT);
        if (hex.length() != algorithm.hexLength() || !hex.chars().allMatch(Digest::isHex)) {
            throw new IllegalArgumentException(algorithm.key() + " must be " + algorithm.hexLength()
                    + " hex digits, got " + hex.length() + " characters: " + hex);
        }
    }

    private static boolean isHex(int c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    }

    /** The user-data form, e.g. {@code sha256=…}. */
    @Override
    public String toString() {
        return algorithm.key() + "=" + hex;
    }
}
