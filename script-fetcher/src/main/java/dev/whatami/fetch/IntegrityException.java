package dev.whatami.fetch;

import dev.whatami.userdata.Digest;
import java.net.URI;

/** The bytes are not what the owner pinned: the script is refused and never placed. */
public class IntegrityException extends FetchException {
    private static final long serialVersionUID = 1L;

    private final Digest expected;
    private final Digest actual;

    public IntegrityException(URI url, Digest expected, Digest actual, int attempts) {
        super("refused " + url + ": its " + expected.algorithm().key() + " is " + actual.hex() + " but the user-data "
                + "pins " + expected.hex() + ". The file on the server changed, or the pin is wrong; fix whichever "
                + "is not what you meant.", url, attempts, null);
        this.expected = expected;
        this.actual = actual;
    }

    public Digest expected() {
        return expected;
    }

    public Digest actual() {
        return actual;
    }
}
