package dev.whatami.fetch;

/** Why a script was refused: the value of {@link FetchRefusedException#reason()}. A refused script never runs. */
public enum RefusalReason {
    /** The bytes do not match the {@code sha256=}/{@code sha512=} pin ({@link IntegrityException}). */
    PIN_MISMATCH,
    /**
     * Trusted keys are configured and the script has no signature: the signature file does not exist (404/410), or
     * none is given for a script that cannot have a derived one ({@link SignatureRefusedException}).
     */
    SIGNATURE_MISSING,
    /**
     * Trusted keys are configured and the signature does not verify with any of them, or is not an Ed25519 signature
     * at all ({@link SignatureRefusedException}).
     */
    SIGNATURE_INVALID,
    /**
     * A policy forbids it before any byte counts: {@code https} required and the URL is not, a redirect from https to
     * plain http or to a scheme other than http(s).
     */
    POLICY,
    /**
     * A redirect from a remote host to this machine or its link: a loopback or link-local address (the metadata
     * service's 169.254.169.254 or fd00:ec2::254), {@code localhost} or {@code metadata.google.internal}.
     */
    REDIRECT_TO_LOCAL
}
