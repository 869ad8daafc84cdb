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
 * {@link #MAX_REDIRECTS}, only to http(s), never from https to http, never from a remote origin to a loopback,
 * link-local or metadata address), no content coding asked for or decoded, and
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
            refuseLocal(url, current, next);
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

    /**
     * Refuses a redirect from a remote origin to this machine or its link: loopback, link-local (the metadata service
     * answers at 169.254.169.254 and fd00:ec2::254), the unspecified address, {@code localhost} or
     * {@code metadata.google.internal}. Decided on the hosts as written, before any connection; a local origin may
     * redirect anywhere.
     */
    private static void refuseLocal(URI origin, URI from, URI next) throws AttemptFailed {
        Optional<String> why = local(host(next));
        if (why.isEmpty() || local(host(origin)).isPresent()) {
            return;
        }
        String to = host(next);
        throw AttemptFailed.refused(new FetchRefusedException(RefusalReason.REDIRECT_TO_LOCAL, "refused "
                + Redact.url(from) + ": it redirects to " + to + ", " + why.get() + ", and a remote server may not "
                + "send the fetcher there (the answer could be the cloud's metadata, credentials included); point "
                + "the user-data at the file's real URL", from, 0),
                "refusing a redirect to " + to + " (" + why.get() + ") from a remote origin");
    }

    /** The host as written, without brackets, userinfo or port, lower case; "" if there is none. */
    private static String host(URI u) {
        String h = u.getHost();
        if (h == null) { // an authority java.net.URI could not split: take it apart as an HTTP client would
            String a = u.getRawAuthority() == null ? "" : u.getRawAuthority();
            a = a.substring(a.lastIndexOf('@') + 1);
            int end = a.startsWith("[") ? a.indexOf(']') + 1 : a.lastIndexOf(':');
            h = end > 0 ? a.substring(0, end) : a;
        }
        h = h.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
    }

    /** Why {@code host} is on this machine or its link, or empty for a remote host. Never resolves a name. */
    private static Optional<String> local(String host) {
        if (host.equals("localhost") || host.endsWith(".localhost")) {
            return Optional.of("a name for loopback");
        }
        if (host.equals("metadata.google.internal")) {
            return Optional.of("the metadata service's name");
        }
        byte[] ip = ipLiteral(host);
        if (ip == null) {
            return Optional.empty();
        }
        java.net.InetAddress a;
        try {
            a = java.net.InetAddress.getByAddress(ip);
        } catch (java.net.UnknownHostException e) {
            return Optional.empty(); // not 4 or 16 bytes: cannot happen
        }
        if (a.isLoopbackAddress() || a.isAnyLocalAddress()) {
            return Optional.of("a loopback address");
        }
        if (a.isLinkLocalAddress() || host.equals("fd00:ec2::254")) {
            return Optional.of("a link-local address");
        }
        return Optional.empty();
    }

    /**
     * The address of an IP literal, IPv4 in any form a resolver takes without asking DNS (dotted quad, but also
     * {@code 2852039166}, {@code 0xa9fea9fe}, {@code 0251.0376.0251.0376}), or null for a name.
     */
    private static byte[] ipLiteral(String host) {
        if (host.contains(":")) {
            int zone = host.indexOf('%');
            try { // a literal with a colon is parsed as IPv6, never looked up; ::ffff:a.b.c.d comes back as IPv4
                return java.net.InetAddress.getByName("[" + (zone < 0 ? host : host.substring(0, zone)) + "]")
                        .getAddress();
            } catch (java.net.UnknownHostException e) {
                return null;
            }
        }
        String[] parts = host.split("\\.", -1);
        if (parts.length > 4) {
            return null;
        }
        long[] v = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i];
            try {
                if (p.matches("0[x][0-9a-f]+")) {
                    v[i] = Long.parseLong(p.substring(2), 16);
                } else if (p.matches("0[0-7]*")) {
                    v[i] = p.length() == 1 ? 0 : Long.parseLong(p.substring(1), 8);
                } else if (p.matches("[1-9][0-9]*")) {
                    v[i] = Long.parseLong(p);
                } else {
                    return null;
                }
            } catch (NumberFormatException e) {
                return null;
            }
        }
        long n = 0;
        for (int i = 0; i < v.length - 1; i++) {
            if (v[i] > 255) {
                return null;
            }
            n |= v[i] << (8 * (3 - i));
        }
        long last = v[v.length - 1];
        if (last >= 1L << (8 * (5 - v.length))) {
            return null;
        }
        n |= last;
        return new byte[] {(byte) (n >> 24), (byte) (n >> 16), (byte) (n >> 8), (byte) n};
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
