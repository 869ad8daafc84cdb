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
    REDIRECT_TO_LOCAL,
    /**
     * A manifest root key is configured ({@link ManifestTrust}) and the script's directory has no manifest: no
     * {@code manifest.json}, {@code keys.json} or their {@code .minisig} there (404/410), or the script was carried in
     * the user-data, where no manifest can list it.
     */
    MANIFEST_MISSING,
    /**
     * The manifest or the keys document is not what it must be: its signature does not verify (it changed after it
     * was signed, or another key signed it), the manifest's key is not listed in the keys document, the JSON is
     * malformed, or the manifest names other origins than the one it was fetched from.
     */
    MANIFEST_INVALID,
    /**
     * The manifest or the keys document has expired, or the manifest's signing key is outside its validity (freeze).
     */
    MANIFEST_EXPIRED,
    /**
     * The manifest or the keys document is older than the one this instance accepted last, or has the same version and
     * other content (rollback).
     */
    MANIFEST_ROLLBACK,
    /** The manifest is signed by a key that the keys document revokes. */
    MANIFEST_KEY_REVOKED,
    /** The verified manifest lists no file under the name the script was asked for. */
    NOT_IN_MANIFEST,
    /**
     * The script's SHA-256 is not the one its verified manifest lists under the name it was asked for: it changed after
     * the manifest was signed, or another (perhaps signed) script is served under that name.
     */
    MANIFEST_MISMATCH
}
