package dev.whatami.metadata.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.utils.DateUtils;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.util.Timeout;

/**
 * One HTTP exchange with a size cap and an overall time budget. The body is read up to the cap; past it, or when the
 * budget runs out (a body dribbling one byte a second resets every read timeout), the request is cancelled — the
 * connection is cut, never drained (closing a response HttpClient's way would read an endless body to its end).
 * Thread-safe; owns one daemon timer thread, started on first use.
 */
final class BoundedExchange implements AutoCloseable {
    /** How much of a non-200 answer is read (for the log) before the connection is cut. */
    static final int ERROR_BODY_LIMIT = 4096;

    private final CloseableHttpClient http;
    private ScheduledThreadPoolExecutor timer;

    BoundedExchange(CloseableHttpClient http) {
        this.http = http;
    }

    /**
     * An answer.
     *
     * @param status     the status code
     * @param reason     the reason phrase
     * @param body       the body (of a non-200 answer, at most {@link #ERROR_BODY_LIMIT} bytes of it)
     * @param retryAfter the {@code Retry-After} wait, when given
     * @param flavor     the {@code Metadata-Flavor} header (GCE), when given
     */
    record Answer(int status, String reason, byte[] body, Optional<Duration> retryAfter, Optional<String> flavor) {
    }

    /** The body of a 200 answer exceeded its cap. */
    static final class TooLargeException extends IOException {
        private static final long serialVersionUID = 1L;
        final int limit;

        TooLargeException(int limit) {
            super("the answer is larger than " + limit + " bytes");
            this.limit = limit;
        }
    }

    /**
     * Sends {@code method url} and reads the answer.
     *
     * @param readTimeout longest wait for the head and for each read
     * @param budget      the most the whole exchange may take; past it the connection is cut
     * @param limit       the most bytes of a 200 body
     * @throws TooLargeException when a 200 body is longer than {@code limit}
     * @throws IOException       for I/O errors; a budget that ran out is a {@link SocketTimeoutException}
     */
    Answer execute(String method, URI url, Map<String, String> headers, Duration readTimeout, Duration budget,
                   int limit) throws IOException {
        long budgetMillis = Math.max(1, budget.toMillis());
        long readMillis = Math.max(1, Math.min(readTimeout.toMillis(), budgetMillis));
        HttpUriRequestBase request = new HttpUriRequestBase(method, url);
        headers.forEach(request::addHeader);
        request.setConfig(RequestConfig.custom().setResponseTimeout(Timeout.ofMilliseconds(readMillis))
                .setRedirectsEnabled(false).setContentCompressionEnabled(false).build());
        AtomicBoolean expired = new AtomicBoolean();
        ScheduledFuture<?> abort = timer().schedule(() -> {
            expired.set(true);
            request.cancel();
        }, budgetMillis, TimeUnit.MILLISECONDS);
        try {
            ClassicHttpResponse response = http.executeOpen(null, request, null);
            boolean complete = false;
            try {
                int status = response.getCode();
                HttpEntity entity = response.getEntity();
                byte[] body = new byte[0];
                if (entity == null) {
                    complete = true;
                } else {
                    int cap = status == 200 ? limit : ERROR_BODY_LIMIT;
                    try (InputStream in = open(entity)) {
                        body = in.readNBytes(cap + 1);
                        complete = body.length <= cap; // fewer bytes than asked for: the end was reached
                    }
                    if (!complete) {
                        if (status == 200) {
                            throw new TooLargeException(limit);
                        }
                        body = java.util.Arrays.copyOf(body, cap);
                    }
                }
                return new Answer(status, response.getReasonPhrase(), body, retryAfter(response),
                        Optional.ofNullable(response.getFirstHeader("Metadata-Flavor")).map(Header::getValue));
            } finally {
                if (!complete) {
                    request.cancel(); // cut the connection first: closing would drain the rest of the body
                }
                try {
                    response.close();
                } catch (IOException e) {
                    // the connection is gone; nothing to release
                }
            }
        } catch (TooLargeException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // a cancel between two steps of HttpClient's exec chain surfaces as "Endpoint not acquired / already
            // released" (IllegalStateException) or "Client connection" (NullPointerException, the endpoint released
            // under the executor): when the deadline cancelled the request, it is a timeout like any
            if (expired.get()) {
                SocketTimeoutException t = new SocketTimeoutException("no complete answer within " + budgetMillis
                        + " ms, the time left before the deadline");
                t.initCause(e);
                throw t;
            }
            throw e;
        } finally {
            abort.cancel(false);
        }
    }

    /** The entity's stream, closed by the caller only after the request was cancelled or the end reached. */
    private static InputStream open(HttpEntity entity) throws IOException {
        InputStream in = entity.getContent();
        return new java.io.FilterInputStream(in) {
            @Override
            public void close() {
                // not here: closing the entity's stream drains it; the response is closed after cancelling
            }
        };
    }

    private static Optional<Duration> retryAfter(ClassicHttpResponse response) {
        Header h = response.getFirstHeader("Retry-After");
        if (h == null) {
            return Optional.empty();
        }
        String v = h.getValue().strip();
        try {
            long seconds = Long.parseLong(v);
            return seconds < 0 ? Optional.empty() : Optional.of(Duration.ofSeconds(seconds));
        } catch (NumberFormatException e) {
            Instant when = DateUtils.parseStandardDate(v);
            return when == null ? Optional.empty() : Optional.of(Duration.between(Instant.now(), when))
                    .filter(d -> !d.isNegative());
        }
    }

    private synchronized ScheduledThreadPoolExecutor timer() {
        if (timer == null) {
            timer = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "whatami-metadata-deadline");
                t.setDaemon(true);
                return t;
            });
            timer.setRemoveOnCancelPolicy(true);
        }
        return timer;
    }

    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
