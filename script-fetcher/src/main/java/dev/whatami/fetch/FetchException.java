package dev.whatami.fetch;

import java.net.URI;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The script was <em>not fetched</em>: it never ran, and trying again later may succeed. {@link #failure()} says
 * why. Its subclass {@link FetchRefusedException} means <em>refused</em> instead: the fetcher will not vouch for the
 * bytes, and they never run either.
 *
 * <p>The message says what happened on every URL tried and what to change; URLs in it are shown through
 * {@link dev.whatami.userdata.Redact#url(URI)}, so it holds no credentials and no query string, and it names
 * builder methods of this library, never command-line flags (an application maps {@link #failure()} to its own
 * hints). {@link #url()} and the keys of {@link #failures()} are the raw URLs: show them through {@code Redact.url}.
 */
public class FetchException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final FetchFailure failure;
    private final transient URI url;
    private final int attempts;
    private final transient Map<URI, FetchFailure> failures;

    /**
     * @param failure  why
     * @param message  what happened and what to change, with every URL redacted
     * @param url      the primary URL of the request (may be {@code null} when none applies)
     * @param attempts attempts made over every URL
     * @param cause    the underlying error, or {@code null}
     */
    public FetchException(FetchFailure failure, String message, URI url, int attempts, Throwable cause) {
        this(failure, message, url, attempts, url == null ? Map.of() : Map.of(url, failure), cause);
    }

    /**
     * @param failures each URL tried, in request order, with its last failure
     */
    public FetchException(FetchFailure failure, String message, URI url, int attempts, Map<URI, FetchFailure> failures,
                          Throwable cause) {
        super(message, cause);
        this.failure = Objects.requireNonNull(failure, "failure");
        this.url = url;
        this.attempts = attempts;
        this.failures = Collections.unmodifiableMap(new LinkedHashMap<>(failures));
    }

    /**
     * Why the script was not fetched. With several URLs (mirrors), the failure of the first URL, in request order,
     * that was not refused; {@link FetchFailure#REFUSED} exactly when this is a {@link FetchRefusedException}.
     */
    public FetchFailure failure() {
        return failure;
    }

    /** The primary URL of the request, raw (show it through {@code Redact.url}); {@code null} when none applies. */
    public URI url() {
        return url;
    }

    /** Attempts made over every URL before giving up (0 when none started). */
    public int attempts() {
        return attempts;
    }

    /** Every URL tried, in request order, with its last failure (raw URLs). Unmodifiable. */
    public Map<URI, FetchFailure> failures() {
        return failures;
    }
}
