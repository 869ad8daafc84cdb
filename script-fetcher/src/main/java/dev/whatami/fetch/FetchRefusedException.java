package dev.whatami.fetch;

import java.net.URI;
import java.util.Map;
import java.util.Objects;

/**
 * The script was <em>refused</em>: a pin or signature does not hold, or a policy forbids the URL. A refused script
 * never touches its final path and never runs. With mirrors, a fetch is refused only when every URL was refused; a
 * mix of refused and unreachable URLs is a plain {@link FetchException} (not fetched), whose message names the
 * refusals too. {@link #failure()} is always {@link FetchFailure#REFUSED}.
 */
public class FetchRefusedException extends FetchException {
    private static final long serialVersionUID = 1L;

    private final RefusalReason reason;

    /**
     * @param reason   why
     * @param message  what does not hold and what to change, URLs redacted
     * @param url      the URL whose bytes (or policy) were refused
     * @param attempts attempts made over every URL
     */
    public FetchRefusedException(RefusalReason reason, String message, URI url, int attempts) {
        this(reason, message, url, attempts, url == null ? Map.of() : Map.of(url, FetchFailure.REFUSED));
    }

    /** @param failures each URL tried, in request order, with its failure (all {@link FetchFailure#REFUSED}) */
    public FetchRefusedException(RefusalReason reason, String message, URI url, int attempts,
                                 Map<URI, FetchFailure> failures) {
        super(FetchFailure.REFUSED, message, url, attempts, failures, null);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** Why it was refused. */
    public RefusalReason reason() {
        return reason;
    }
}
