package dev.whatami.fetch;

import java.net.URI;
import java.util.Map;

/**
 * Trusted keys are configured and the script has no signature that verifies with one of them
 * ({@link RefusalReason#SIGNATURE_MISSING} or {@link RefusalReason#SIGNATURE_INVALID}): never run.
 */
public class SignatureRefusedException extends FetchRefusedException {
    private static final long serialVersionUID = 1L;

    /**
     * @param reason {@link RefusalReason#SIGNATURE_MISSING} or {@link RefusalReason#SIGNATURE_INVALID}
     */
    public SignatureRefusedException(RefusalReason reason, String message, URI url, int attempts) {
        super(checked(reason), message, url, attempts);
    }

    /** @param failures each URL tried, in request order, with its failure */
    public SignatureRefusedException(RefusalReason reason, String message, URI url, int attempts,
                                     Map<URI, FetchFailure> failures) {
        super(checked(reason), message, url, attempts, failures);
    }

    private static RefusalReason checked(RefusalReason reason) {
        if (reason != RefusalReason.SIGNATURE_MISSING && reason != RefusalReason.SIGNATURE_INVALID) {
            throw new IllegalArgumentException("a signature refusal is SIGNATURE_MISSING or SIGNATURE_INVALID, not "
                    + reason);
        }
        return reason;
    }
}
