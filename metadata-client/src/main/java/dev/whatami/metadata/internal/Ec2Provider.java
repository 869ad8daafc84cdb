package dev.whatami.metadata.internal;

import dev.whatami.metadata.InstanceIdentity;
import dev.whatami.metadata.MetadataClient;
import dev.whatami.metadata.MetadataException.Reason;
import dev.whatami.metadata.MetadataProtocolException;
import dev.whatami.metadata.MetadataRefusedException;
import dev.whatami.metadata.RetryLoop;
import dev.whatami.metadata.Provider;
import dev.whatami.metadata.UserDataTooLargeException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The EC2 instance metadata service (IMDS): IMDSv2 session tokens, with IMDSv1 as a fallback that lasts one call.
 * Also serves Eucalyptus, OpenStack and the whatami emulator, which speak the same paths.
 *
 * <p>IMDSv2 is never sticky: a token request that times out lets this one call read with IMDSv1 (unless v1 is
 * disabled), and the next call asks for a token again; a 401 always sends the client back to the token endpoint; a
 * token request that times out while a token is needed is tried again, waiting twice as long each time, within the
 * call's deadline.
 */
final class Ec2Provider implements DefaultMetadataClient.ProviderClient {
    private static final Logger LOG = LoggerFactory.getLogger(Ec2Provider.class);
    /** The token is refreshed a tenth of its TTL before it ends, at most a minute early. */
    private static final long MAX_TOKEN_MARGIN_NANOS = Duration.ofMinutes(1).toNanos();
    static final String TOKEN_PATH = "/latest/api/token";
    static final String TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds";
    static final String TOKEN_HEADER = "X-aws-ec2-metadata-token";
    /** Most bytes of any value but the user-data. */
    static final int MAX_VALUE = 1 << 20;
    /** Longest wait for a token, however often it timed out. */
    static final Duration MAX_TOKEN_TIMEOUT = Duration.ofSeconds(30);
    /** Fresh tokens refused in one call before it gives up. */
    static final int MAX_TOKEN_REJECTIONS = 3;

    private final BoundedExchange http;
    private final URI endpoint;
    private final boolean v2Required;
    private final Duration tokenTtl;
    private final Duration readTimeout;
    private final Retrier retrier;
    private final Clock clock;

    private final Object tokenLock = new Object();
    private String token;
    private Instant tokenRefreshAt = Instant.MIN;
    private Duration tokenTimeout;
    private final AtomicBoolean saidTimeoutFallback = new AtomicBoolean();
    private final AtomicBoolean saidNoV2 = new AtomicBoolean();
    private final AtomicBoolean saidV2Needed = new AtomicBoolean();

    Ec2Provider(BoundedExchange http, URI endpoint, boolean v2Required, Duration tokenTtl, Duration readTimeout,
                Duration tokenTimeout, Retrier retrier) {
        this.http = http;
        String base = endpoint.toString();
        this.endpoint = URI.create(base.endsWith("/") ? base.substring(0, base.length() - 1) : base);
        this.v2Required = v2Required;
        this.tokenTtl = tokenTtl;
        this.readTimeout = readTimeout;
        // with v1 disabled there is no fallback: waiting longer for the token is the only way forward
        this.tokenTimeout = v2Required && readTimeout.compareTo(tokenTimeout) > 0 ? readTimeout : tokenTimeout;
        this.retrier = retrier;
        this.clock = retrier.clock();
    }

    @Override
    public Provider provider() {
        return Provider.EC2;
    }

    @Override
    public Optional<byte[]> userData() {
        return get(retrier.newCall(), "/latest/user-data", MetadataClient.MAX_USER_DATA_BYTES, true);
    }

    @Override
    public InstanceIdentity identity() {
        Call call = retrier.newCall();
        URI idUrl = url("/latest/meta-data/instance-id");
        String id = text(call, "/latest/meta-data/instance-id").orElseThrow(() -> new MetadataProtocolException(
                Reason.MALFORMED_ANSWER, "the metadata service has no instance-id (404 or empty at " + idUrl
                + "); is the endpoint an EC2-compatible metadata service?", idUrl, 1, null));
        if (id.length() > 255 || !id.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new MetadataProtocolException(Reason.MALFORMED_ANSWER, "the metadata service returned an unusable "
                    + "instance-id (" + id.length() + " characters, printable ASCII expected) at " + idUrl, idUrl, 1,
                    null);
        }
        Optional<String> zone = text(call, "/latest/meta-data/placement/availability-zone");
        Optional<String> region = text(call, "/latest/meta-data/placement/region");
        return new InstanceIdentity(id, Provider.EC2, region, zone);
    }

    /** A value as text within {@code call}; empty when absent or blank. */
    Optional<String> text(Call call, String path) {
        return get(call, path, MAX_VALUE, false).map(b -> new String(b, StandardCharsets.UTF_8).strip())
                .filter(s -> !s.isEmpty());
    }

    URI url(String path) {
        return URI.create(endpoint + path);
    }

    /** GET with retries within {@code call}; empty on 404. */
    Optional<byte[]> get(Call call, String path, int limit, boolean userData) {
        URI url = url(path);
        return retrier.call(url, call, attempt -> once(call, url, limit, userData, attempt));
    }

    private Optional<byte[]> once(Call call, URI url, int limit, boolean userData, int attempt)
            throws IOException, Retrier.RetryableStatusException {
        while (true) {
            Optional<String> t = call.v1 ? Optional.empty() : token(call);
            BoundedExchange.Answer a;
            try {
                a = http.execute("GET", url, t.map(v -> Map.of(TOKEN_HEADER, v)).orElse(Map.of()), readTimeout,
                        call.timeLeft(), limit);
            } catch (BoundedExchange.TooLargeException e) {
                throw tooLarge(url, e.limit, userData);
            }
            if (a.status() != 401) {
                return classify(a, url, attempt);
            }
            if (t.isPresent()) {
                dropToken(t.get());
                call.tokenRejections++;
                if (call.tokenRejections >= MAX_TOKEN_REJECTIONS) {
                    throw new MetadataRefusedException(Reason.TOKEN_REJECTED, "the metadata service at " + endpoint
                            + " refused " + call.tokenRejections + " IMDSv2 tokens it had just handed out (HTTP 401 "
                            + "for " + url + "); its clock or token store is broken, or something between rewrites "
                            + "the requests", url, attempt, null);
                }
                LOG.debug("IMDSv2 token refused by {} (HTTP 401); asking for a new one", url);
                if (call.tokenRejections == 1) {
                    continue; // at once: an expired or revoked token is the common case
                }
                throw new Retrier.RetryableStatusException(401, "IMDSv2 token refused", Optional.empty());
            }
            // read with IMDSv1, and the service wants a token: back to the token endpoint, waiting longer
            call.v1 = false;
            call.v2Needed = true;
            Duration wait = growTokenTimeout();
            say(saidV2Needed, "the metadata service at {} requires IMDSv2 tokens (HTTP 401 without one); asking for "
                    + "a token again, waiting up to {}", endpoint, Retrier.seconds(wait));
            throw new Retrier.RetryableStatusException(401, "IMDSv2 token required", Optional.empty());
        }
    }

    private static RuntimeException tooLarge(URI url, int limit, boolean userData) {
        if (userData) {
            return new UserDataTooLargeException("the user-data at " + url + " is larger than " + limit + " bytes ("
                    + (limit >> 20) + " MiB), the most whatami accepts; make it smaller (gzip it, or move the "
                    + "scripts to a file server and name them in the user-data)", url, limit);
        }
        return new MetadataProtocolException(Reason.ANSWER_TOO_LARGE, "the answer from " + url + " is larger than "
                + limit + " bytes; refusing it", url, 1, null);
    }

    private Optional<byte[]> classify(BoundedExchange.Answer a, URI url, int attempt)
            throws Retrier.RetryableStatusException {
        int status = a.status();
        if (status == 200) {
            return Optional.of(a.body());
        }
        if (status == 404) {
            return Optional.empty();
        }
        if (RetryLoop.retriedStatus(status)) {
            throw new Retrier.RetryableStatusException(status, a.reason(), a.retryAfter());
        }
        if (status == 403) {
            throw new MetadataRefusedException(Reason.FORBIDDEN, "the metadata service answered HTTP 403 for " + url
                    + ": the metadata service is disabled for this instance or this path is forbidden", url, attempt,
                    null);
        }
        throw new MetadataRefusedException(Reason.REJECTED, "the metadata service answered HTTP " + status + " for "
                + url, url, attempt, null);
    }

    /** The current IMDSv2 token, fetching one when needed; empty when this call is to use IMDSv1. */
    private Optional<String> token(Call call) throws IOException, Retrier.RetryableStatusException {
        synchronized (tokenLock) {
            if (token != null && clock.instant().isBefore(tokenRefreshAt)) {
                return Optional.of(token);
            }
            URI url = url(TOKEN_PATH);
            Duration wait = tokenTimeout;
            BoundedExchange.Answer r;
            try {
                r = http.execute("PUT", url, Map.of(TTL_HEADER, Long.toString(tokenTtl.getSeconds())), wait,
                        call.timeLeft(), 4096);
            } catch (SocketTimeoutException e) {
                if (!v2Required && !call.v2Needed) {
                    call.v1 = true;
                    warnOnce(saidTimeoutFallback, "IMDSv2 token request to {} took longer than {}; reading with IMDSv1 "
                            + "for this call, the next one asks for a token again (on EC2 this often means the "
                            + "metadata hop limit is too low for a container)", url, Retrier.seconds(wait));
                    return Optional.empty();
                }
                Duration next = growTokenTimeout();
                LOG.info("IMDSv2 token request to {} took longer than {}; asking again, waiting up to {}", url,
                        Retrier.seconds(wait), Retrier.seconds(next));
                throw e;
            } catch (BoundedExchange.TooLargeException e) {
                throw new MetadataProtocolException(Reason.ANSWER_TOO_LARGE, "the IMDSv2 token from " + url
                        + " is larger than 4096 bytes; is the endpoint an EC2-compatible metadata service?", url, 1,
                        null);
            }
            String value = new String(r.body(), StandardCharsets.UTF_8).strip();
            if (r.status() == 200 && !value.isEmpty()) {
                token = value;
                // refresh shortly before the TTL ends: a tenth of it, at most a minute early
                // (in nanoseconds, not Duration.dividedBy: that divides BigDecimals, and on JDK 25 the first use of
                // BigDecimal computes 5^65536 in its static initialiser, ~10 ms; the TTL is at most hours)
                Duration margin = Duration.ofNanos(Math.min(tokenTtl.toNanos() / 10, MAX_TOKEN_MARGIN_NANOS));
                tokenRefreshAt = clock.instant().plus(tokenTtl).minus(margin);
                LOG.debug("IMDSv2 token from {} for {}", url, tokenTtl);
                return Optional.of(token);
            }
            if (r.status() == 408 && !v2Required && !call.v2Needed) {
                // the service gave up waiting for the token request, as a slow one times out here: IMDSv1 for this
                // call (with IMDSv2 required, a 408 is retried as below)
                call.v1 = true;
                warnOnce(saidTimeoutFallback, "IMDSv2 token request to {} answered HTTP 408 (the service gave up "
                        + "waiting for it); reading with IMDSv1 for this call, the next one asks for a token again", url);
                return Optional.empty();
            }
            if (RetryLoop.retriedStatus(r.status())) {
                throw new Retrier.RetryableStatusException(r.status(), r.reason(), r.retryAfter());
            }
            if (r.status() == 403) {
                throw new MetadataRefusedException(Reason.SERVICE_DISABLED, "the metadata service at " + endpoint
                        + " refused a token (HTTP 403): the instance metadata service is disabled for this instance. "
                        + "Enable it (aws ec2 modify-instance-metadata-options --http-endpoint enabled), or give the "
                        + "user-data another way (provider(Provider.NOCLOUD) with noCloudSource(path)).", url, 1, null);
            }
            if (v2Required || call.v2Needed) {
                throw new MetadataRefusedException(Reason.IMDS_V2_UNAVAILABLE, (v2Required
                        ? "IMDSv2 is required (imdsV2Required(true)) but " : "the metadata service requires IMDSv2 "
                        + "tokens (HTTP 401 without one) but ") + url + " answered HTTP " + r.status() + " to the "
                        + "token request: the service does not offer IMDSv2." + (v2Required
                        ? " Call imdsV2Required(false) to allow IMDSv1." : ""), url, 1, null);
            }
            call.v1 = true;
            say(saidNoV2, "no IMDSv2 at {} (HTTP {} to the token request); reading with IMDSv1 for this call", url,
                    r.status());
            return Optional.empty();
        }
    }

    private Duration growTokenTimeout() {
        synchronized (tokenLock) {
            Duration next = tokenTimeout.multipliedBy(2);
            tokenTimeout = next.compareTo(MAX_TOKEN_TIMEOUT) > 0 ? MAX_TOKEN_TIMEOUT : next;
            return tokenTimeout;
        }
    }

    private void dropToken(String refused) {
        synchronized (tokenLock) {
            if (refused.equals(token)) {
                token = null;
                tokenRefreshAt = Instant.MIN;
            }
        }
    }

    /** Logs at warn the first time, at debug afterwards. */
    private static void warnOnce(AtomicBoolean said, String format, Object... args) {
        if (said.compareAndSet(false, true)) {
            LOG.warn(format, args);
        } else {
            LOG.debug(format, args);
        }
    }

    /** Logs at info the first time, at debug afterwards: a boot's log says it once. */
    private static void say(AtomicBoolean said, String format, Object... args) {
        if (said.compareAndSet(false, true)) {
            LOG.info(format, args);
        } else {
            LOG.debug(format, args);
        }
    }
}
