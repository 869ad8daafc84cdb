package dev.whatami.fetch;

import java.net.URI;

/** Trusted keys are configured and the script has no signature that verifies with one of them: never run. */
public class SignatureRefusedException extends FetchException {
    private static final long serialVersionUID = 1L;

    public SignatureRefusedException(String message, URI url, int attempts) {
        super(message, url, attempts, null);
    }
}
