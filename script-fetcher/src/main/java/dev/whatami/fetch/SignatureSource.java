package dev.whatami.fetch;

import java.net.URI;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a script's Ed25519 signature is, when it is not derived ({@code <url>.sig} beside a plain http(s),
 * {@code s3://} or {@code gs://} URL without a query string): carried in the user-data line ({@code sig=<base64>}),
 * or at a URL of its own ({@code sig=<url>}, which may be presigned itself).
 */
public sealed interface SignatureSource {
    /** The signature itself: the 64 bytes. */
    record Inline(byte[] signature) implements SignatureSource {
        public Inline {
            Objects.requireNonNull(signature, "signature");
            if (signature.length != 64) {
                throw new IllegalArgumentException("an Ed25519 signature is 64 bytes, got " + signature.length);
            }
            signature = signature.clone();
        }

        @Override
        public byte[] signature() {
            return signature.clone();
        }
    }

    /** The URL of a signature file (base64 of the 64 bytes, or the raw 64 bytes). */
    record At(URI url) implements SignatureSource {
        public At {
            Objects.requireNonNull(url, "url");
        }
    }

    /**
     * The user-data's {@code sig=} value: base64 of a 64-byte signature, or a URL.
     *
     * @throws IllegalArgumentException when it is neither, saying what a signature value looks like
     */
    static SignatureSource parse(String value) {
        Objects.requireNonNull(value, "value");
        String v = value.strip();
        if (v.matches("(?i)(https?|s3|gs|file)://.*")) {
            return new At(URI.create(v));
        }
        Optional<byte[]> decoded = TrustedKeys.decodeSignature(v.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        if (decoded.isEmpty() || v.length() == 64 && !v.endsWith("=")) {
            throw new IllegalArgumentException("sig= takes the base64 of a 64-byte Ed25519 signature (88 characters, "
                    + "as whatami-server sign prints it) or the signature file's URL");
        }
        return new Inline(decoded.get());
    }
}
