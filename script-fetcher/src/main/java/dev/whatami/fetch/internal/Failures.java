package dev.whatami.fetch.internal;

import dev.whatami.fetch.FetchFailure;
import dev.whatami.metadata.RetryLoop;
import dev.whatami.userdata.Redact;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.apache.hc.client5.http.ClientProtocolException;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.utils.DateUtils;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.MessageConstraintException;
import org.apache.hc.core5.http.ProtocolException;

/** Sorts what went wrong on one attempt into a {@link FetchFailure}, with a message free of secrets. */
final class Failures {
    private Failures() {
    }

    /** An exception while connecting, sending, or reading the head or body. */
    static AttemptFailed io(IOException e, Watchdog.Scope scope, URI url, long received) {
        String after = received > 0 ? " after " + received + " bytes" : "";
        if (scope != null && scope.expired()) {
            return new AttemptFailed(FetchFailure.TIMEOUT, "no complete answer by " + scope.what() + after, e);
        }
        if (e instanceof Staging.TooLargeException) {
            return new AttemptFailed(FetchFailure.TOO_LARGE, clean(e.getMessage(), url), e);
        }
        if (e instanceof Staging.LocalIOException) {
            return new AttemptFailed(FetchFailure.LOCAL_IO, clean(e.getMessage(), url), e);
        }
        if (e instanceof SSLPeerUnverifiedException || (e instanceof SSLHandshakeException && isTrust(e))) {
            return new AttemptFailed(FetchFailure.TLS, "its certificate is not trusted here (" + describe(e, url)
                    + ")", e);
        }
        if (e instanceof ConnectTimeoutException || e instanceof SocketTimeoutException) {
            return new AttemptFailed(FetchFailure.TIMEOUT, describe(e, url) + after, e);
        }
        if (e instanceof InterruptedIOException) {
            return new AttemptFailed(FetchFailure.INTERRUPTED, describe(e, url), e);
        }
        if (e instanceof MessageConstraintException || (e instanceof ClientProtocolException
                && e.getCause() instanceof ProtocolException)) {
            Throwable c = e.getCause() instanceof ProtocolException ? e.getCause() : e;
            return new AttemptFailed(FetchFailure.BAD_RESPONSE, "a malformed answer: "
                    + clean(String.valueOf(c.getMessage()), url), e);
        }
        return new AttemptFailed(FetchFailure.UNREACHABLE, describe(e, url) + after, e);
    }

    /** A certificate the trust store does not accept, as opposed to a handshake cut short. */
    private static boolean isTrust(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof GeneralSecurityException) { // CertificateException, CertPathValidatorException, ...
                return true;
            }
        }
        return false;
    }

    /** What a status line means for fetching; the ones {@link RetryLoop#retriedStatus} retries are retried. */
    static AttemptFailed status(ClassicHttpResponse response, Instant now) {
        int code = response.getCode();
        String what = "HTTP " + code + (response.getReasonPhrase() == null || response.getReasonPhrase().isEmpty()
                ? "" : " " + response.getReasonPhrase());
        if (code == 404 || code == 410) {
            return AttemptFailed.status(FetchFailure.NOT_FOUND, what, Optional.empty());
        }
        if (RetryLoop.retriedStatus(code)) {
            return code == 408 ? AttemptFailed.status(FetchFailure.TIMEOUT, what, Optional.empty())
                    : AttemptFailed.status(code == 429 ? FetchFailure.TOO_MANY_REQUESTS : FetchFailure.SERVER_ERROR,
                    what, retryAfter(response, now));
        }
        if (code >= 400) {
            return AttemptFailed.status(FetchFailure.CLIENT_ERROR, what, Optional.empty());
        }
        return AttemptFailed.status(FetchFailure.BAD_RESPONSE, what + ", which is not an answer to a download",
                Optional.empty());
    }

    /** {@code Retry-After} as seconds or an HTTP date (parsed by HttpClient's own {@code DateUtils}). */
    static Optional<Duration> retryAfter(ClassicHttpResponse response, Instant now) {
        Header h = response.getFirstHeader("Retry-After");
        if (h == null) {
            return Optional.empty();
        }
        String v = h.getValue().strip();
        try {
            return Optional.of(Duration.ofSeconds(Math.max(0, Long.parseLong(v))));
        } catch (NumberFormatException e) {
            Instant when = DateUtils.parseStandardDate(v);
            if (when == null) {
                return Optional.empty();
            }
            Duration d = Duration.between(now, when);
            return Optional.of(d.isNegative() ? Duration.ZERO : d);
        }
    }

    /** "SimpleName: message", with the URL's credentials removed. */
    static String describe(Throwable e, URI url) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + clean(m, url));
    }

    /** {@code text} with the userinfo and query of {@code url} (and the whole raw URL) replaced. */
    static String clean(String text, URI url) {
        if (text == null || url == null) {
            return text;
        }
        List<String> secrets = new ArrayList<>();
        if (url.getRawUserInfo() != null) {
            secrets.add(url.getRawUserInfo());
            secrets.add(url.getUserInfo());
        }
        if (url.getRawQuery() != null) {
            secrets.add(url.getRawQuery());
            secrets.add(url.getQuery());
        }
        return Redact.text(text.replace(url.toString(), Redact.url(url)), secrets);
    }
}
