package dev.whatami.fetch;

import dev.whatami.userdata.Digest;
import dev.whatami.userdata.Redact;
import java.net.URI;
import java.util.Map;

/**
 * The bytes are not what the owner pinned ({@link RefusalReason#PIN_MISMATCH}): the script is refused and never
 * placed.
 */
public class IntegrityException extends FetchRefusedException {
    private static final long serialVersionUID = 1L;

    private final Digest expected;
    private final Digest actual;

    /** One URL's refusal, with the standard message. */
    public IntegrityException(URI url, Digest expected, Digest actual, int attempts) {
        this(message(url, expected, actual), url, expected, actual, attempts, Map.of(url, FetchFailure.REFUSED));
    }

    /**
     * @param message  what does not match and what to change, URLs redacted
     * @param failures each URL tried, in request order, with its failure
     */
    public IntegrityException(String message, URI url, Digest expected, Digest actual, int attempts,
                              Map<URI, FetchFailure> failures) {
        super(RefusalReason.PIN_MISMATCH, message, url, attempts, failures);
        this.expected = expected;
        this.actual = actual;
    }

    /** The standard message: which URL, both digests, what to fix. */
    public static String message(URI url, Digest expected, Digest actual) {
        return "refused " + Redact.url(url) + ": its " + expected.algorithm().key() + " is " + actual.hex()
                + " but the user-data pins " + expected.hex() + ". The file on the server changed, or the pin is "
                + "wrong; fix whichever is not what you meant.";
    }

    /** The pinned digest. */
    public Digest expected() {
        return expected;
    }

    /** The digest of the bytes received, in the pin's algorithm. */
    public Digest actual() {
        return actual;
    }
}
