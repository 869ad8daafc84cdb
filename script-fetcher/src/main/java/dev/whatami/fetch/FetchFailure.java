package dev.whatami.fetch;

/**
 * Why a script was not fetched: the value of {@link FetchException#failure()}. Every failure but {@link #REFUSED}
 * means the script was <em>not fetched</em> — it never ran, and trying again later (next run, next boot) may well
 * succeed; {@link #REFUSED} means the fetcher got bytes (or a policy decided before asking) and will not vouch for
 * them ({@link FetchRefusedException}).
 *
 * <p>Whether the fetcher itself tries a URL again within one fetch depends on the failure: the ones marked
 * <em>retried</em> below are tried again after a backoff, until the fetch's deadline; the others end that URL's part
 * in the fetch at once (its mirrors are still tried).
 */
public enum FetchFailure {
    /** No connection, or it broke: refused, reset, DNS failure, dropped mid-body. Retried. */
    UNREACHABLE,
    /** A connect or read timeout, an attempt that ran past its own deadline, or the fetch's deadline. Retried. */
    TIMEOUT,
    /** The server answered 5xx. Retried, honouring {@code Retry-After}. */
    SERVER_ERROR,
    /** The server answered 429. Retried, honouring {@code Retry-After}. */
    TOO_MANY_REQUESTS,
    /** 404 or 410, or no such local file. Not retried. */
    NOT_FOUND,
    /** Any other 4xx (401, 403, ...): the server will not give it to this client. Not retried. */
    CLIENT_ERROR,
    /**
     * The https server's certificate is not trusted (unknown CA, wrong host name, expired): fix the CA bundle or the
     * certificate and the next run succeeds. Not retried.
     */
    TLS,
    /** Larger than {@link FetchRequest#maxBytes()}; the transfer was cut off at the limit. Not retried. */
    TOO_LARGE,
    /**
     * An answer the fetcher cannot use: a body encoded although none was asked for ({@code Content-Encoding}),
     * a broken redirect, a {@code Content-Range} that does not match the request, a malformed or oversized head.
     * Not retried.
     */
    BAD_RESPONSE,
    /** This machine could not stage or place the file (disk full, directory not writable). Ends the fetch at once. */
    LOCAL_IO,
    /** The fetching thread was interrupted while it waited. Ends the fetch at once. */
    INTERRUPTED,
    /** Refused: see {@link FetchRefusedException#reason()}. Not retried on that URL. */
    REFUSED,
    /**
     * The fetcher's own configuration is unusable: trusted keys that cannot be read or are not Ed25519 keys. Thrown
     * by {@link TrustedKeys}, never by a fetch.
     */
    CONFIGURATION
}
