package dev.whatami.fetch.internal;

import dev.whatami.fetch.FetchFailure;
import dev.whatami.fetch.FetchRefusedException;
import dev.whatami.fetch.RefusalReason;
import dev.whatami.userdata.Redact;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.io.ModalCloseable;
import org.apache.hc.core5.util.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One GET with the fetcher's own policies, whatever client it runs on: redirects followed here (at most
 * {@link #MAX_REDIRECTS}, only to http(s), never from https to http), no content coding asked for or decoded, and
 * every response body either read to its end or aborted — never drained, so an endless body costs nothing after the
 * caller stops reading.
 */
final class Exchange {
    private static final Logger LOG = LoggerFactory.getLogger(Exchange.class);
    static final int MAX_REDIRECTS = 5;

    private final CloseableHttpClient http;
    private final RequestConfig config;

    Exchange(CloseableHttpClient http, Duration readTimeout) {
        this.http = http;
        // per request, so a caller's client keeps these too: its defaults may follow redirects or decompress
        this.config = RequestConfig.custom().setRedirectsEnabled(false).setContentCompressionEnabled(false)
                .setResponseTimeout(Timeout.of(readTimeout.toMillis(), TimeUnit.MILLISECONDS)).build();
    }

    /**
     * Sends a GET for {@code url} with {@code headers}, follows redirects, and returns the final response with its
     * body unread. The caller closes it.
     */
    Response open(URI url, Map<String, String> headers, Watchdog.Scope scope) throws AttemptFailed {
        return open(url, headers, Origin.PLAIN, scope);
    }

    /**
     * The same, each request authorized by {@code origin}: the first, and redirects to the same host and port (a
     * redirect elsewhere goes without the origin's credentials).
     */
    Response open(URI url, Map<String, String> headers, Origin origin, Watchdog.Scope scope) throws AttemptFailed {
        URI current = url;
        String authority = url.getRawAuthority();
        for (int hop = 0; ; hop++) {
            HttpGet get = new HttpGet(current);
            get.setConfig(config);
            headers.forEach(get::setHeader);
            if (origin != Origin.PLAIN && java.util.Objects.equals(authority, current.getRawAuthority())) {
                origin.authorize(current).forEach(get::setHeader);
            }
            get.setHeader("Accept-Encoding", "identity");
            scope.track(get);
            ClassicHttpResponse message;
            try {
                message = http.executeOpen(null, get, HttpClientContext.create());
            } catch (IOException e) {
                throw Failures.io(e, scope, current, 0);
            } catch (RuntimeException e) {
                // the watchdog's cancel can land between two steps of HttpClient's exec chain, which then throws
                // IllegalStateException ("Endpoint not acquired") or NullPointerException ("Client connection"):
                // past the deadline that is a timeout; anything else is a bug and goes up as it is
                if (!scope.expired()) {
                    throw e;
                }
                java.io.InterruptedIOException cut = new java.io.InterruptedIOException("cancelled at the deadline");
                cut.initCause(e);
                throw Failures.io(cut, scope, current, 0);
            }
            Response r = new Response(current, get, message);
            scope.track(r);
            int code = message.getCode();
            if ((code != 301 && code != 302 && code != 303 && code != 307 && code != 308)
                    || message.getFirstHeader("Location") == null && origin != Origin.PLAIN) {
                return r; // a cloud origin's redirect without a Location (S3's wrong region) is for the origin
            }
            r.abort(); // a redirect's body is of no use, and could be endless
            URI next = location(current, message);
            if (hop == MAX_REDIRECTS) {
                throw new AttemptFailed(FetchFailure.BAD_RESPONSE, "more than " + MAX_REDIRECTS + " redirects (the "
                        + "last to " + Redact.url(next) + ")", null);
            }
            if (LOG.isDebugEnabled()) {
                LOG.debug("{} redirects ({}) to {}", Redact.url(current), code, Redact.url(next));
            }
            current = next;
        }
    }

    private static URI location(URI from, ClassicHttpResponse message) throws AttemptFailed {
        Header h = message.getFirstHeader("Location");
        if (h == null || h.getValue().isBlank()) {
            throw new AttemptFailed(FetchFailure.BAD_RESPONSE, "HTTP " + message.getCode() + " without a Location",
                    null);
        }
        URI next;
        try {
            URI resolved = from.resolve(new URI(h.getValue().strip()));
            String raw = resolved.toString();
            next = resolved.getRawFragment() == null ? resolved : new URI(raw.substring(0, raw.indexOf('#')));
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new AttemptFailed(FetchFailure.BAD_RESPONSE, "HTTP " + message.getCode() + " to a Location that is "
                    + "not a URL", null);
        }
        String to = next.getScheme() == null ? "" : next.getScheme().toLowerCase(Locale.ROOT);
        if (!to.equals("http") && !to.equals("https")) {
            throw AttemptFailed.refused(new FetchRefusedException(RefusalReason.POLICY, "refused "
                    + Redact.url(from) + ": it redirects to " + Redact.url(next) + ", and only http and https "
                    + "redirects are followed; point the user-data at the file's real URL", from, 0),
                    "refusing a redirect to " + Redact.url(next) + ": only http and https are followed");
        }
        if ("https".equalsIgnoreCase(from.getScheme()) && to.equals("http")) {
            throw AttemptFailed.refused(new FetchRefusedException(RefusalReason.POLICY, "refused "
                    + Redact.url(from) + ": refusing a redirect from https to plain http (" + Redact.url(next)
                    + "), which would give up the transport's protection; serve the file over https there, or "
                    + "name the http URL in the user-data if that is really meant", from, 0),
                    "refusing a redirect from https to plain http (" + Redact.url(next) + ")");
        }
        return next;
    }

    /** A response whose body has not been read yet. Closing it reuses the connection only if the body was read whole. */
    static final class Response implements AutoCloseable {
        final URI url;
        private final HttpUriRequestBase request;
        final ClassicHttpResponse message;
        private volatile boolean complete;
        private volatile boolean aborted;
        private boolean closed;

        Response(URI url, HttpUriRequestBase request, ClassicHttpResponse message) {
            this.url = url;
            this.request = request;
            this.message = message;
        }

        int code() {
            return message.getCode();
        }

        Optional<String> header(String name) {
            Header h = message.getFirstHeader(name);
            return h == null ? Optional.empty() : Optional.of(h.getValue().strip());
        }

        /** The body's length as announced, or -1. */
        long length() {
            HttpEntity e = message.getEntity();
            return e == null ? 0 : e.getContentLength();
        }

        /** The body; reading it to the end marks the exchange complete. */
        InputStream body() throws IOException {
            HttpEntity e = message.getEntity();
            if (e == null) {
                complete = true;
                return InputStream.nullInputStream();
            }
            return new FilterInputStream(e.getContent()) {
                @Override
                public int read() throws IOException {
                    int b = super.read();
                    complete |= b == -1;
                    return b;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    int n = super.read(b, off, len);
                    complete |= n == -1;
                    return n;
                }

                @Override
                public void close() {
                    // the exchange closes it: draining happens only after a complete read, i.e. never
                }
            };
        }

        /** Closes the connection at once, without reading what is left of the body. Safe from any thread. */
        void abort() {
            if (aborted) {
                return;
            }
            aborted = true;
            request.cancel();
            if (message instanceof ModalCloseable m) {
                m.close(CloseMode.IMMEDIATE);
            }
        }

        @Override
        public void close() {
            if (aborted || closed) {
                return;
            }
            closed = true;
            if (!complete && message.getEntity() != null) {
                abort();
                return;
            }
            try {
                message.close();
            } catch (IOException e) {
                // the body was read whole: nothing is lost
            }
        }
    }
}
