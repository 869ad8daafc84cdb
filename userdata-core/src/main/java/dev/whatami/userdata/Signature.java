package dev.whatami.userdata;

import java.net.URI;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * A task's Ed25519 signature, as the user-data gives it: the 64 signature bytes themselves ({@code sig=<base64>}, the
 * {@code X-Whatami-Signature} header of a MIME script part, or the {@code #whatami-signature:} line of an inline
 * script), or where to fetch them ({@code sig=<url>}, which may be presigned). The signature is over the script's
 * exact bytes — for an inline script, the bytes {@link TaskSource.Inline#content()} holds. whatami's parser only
 * carries it; the fetcher verifies it against the trusted keys. Without one, the fetcher derives {@code <url>.sig}
 * where it builds the request itself. Immutable and thread-safe.
 */
public sealed interface Signature {
    /** Length of an Ed25519 signature, in bytes. */
    int LENGTH = 64;

    /** The signature's bytes, carried in the user-data. */
    final class Inline implements Signature {
        private final byte[] bytes;

        /**
         * @param bytes the 64 signature bytes
         * @throws IllegalArgumentException when there are not 64 of them
         */
        public Inline(byte[] bytes) {
            if (bytes.length != LENGTH) {
                throw new IllegalArgumentException("an Ed25519 signature is " + LENGTH + " bytes, got "
                        + bytes.length);
            }
            this.bytes = bytes.clone();
        }

        /** A copy of the 64 bytes. */
        public byte[] bytes() {
            return bytes.clone();
        }

        /** The bytes in base64 (standard alphabet, padded: 88 characters), as {@code sig=} writes them. */
        public String base64() {
            return Base64.getEncoder().encodeToString(bytes);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Inline other && Arrays.equals(bytes, other.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }

        /** {@code sig=<base64>}: a signature is no secret. */
        @Override
        public String toString() {
            return "sig=" + base64();
        }
    }

    /**
     * Where the signature is: an {@code http}, {@code https}, {@code s3}, {@code gs} or {@code file} URL whose content
     * is the base64 (or the raw 64 bytes) of the signature.
     *
     * @param url the signature's URL; may carry a query (presigned), which messages never show
     */
    record Remote(URI url) implements Signature {
        public Remote {
            Objects.requireNonNull(url, "url");
        }

        /** {@code sig=<url>} with the URL shown as {@link Redact#url(URI)} shows it. */
        @Override
        public String toString() {
            return "sig=" + Redact.url(url);
        }
    }
}
