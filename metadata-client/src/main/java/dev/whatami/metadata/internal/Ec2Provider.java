package dev.whatami.metadata.internal;

import dev.whatami.metadata.InstanceIdentity;
import dev.whatami.metadata.MetadataProtocolException;
import dev.whatami.metadata.MetadataRefusedException;
import dev.whatami.metadata.Provider;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.io.support.ClassicRequestBuilder;
import org.apache.hc.core5.util.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The EC2 instance metadata service (IMDS), v2 with session tokens and v1 as a fallback. Also serves
 * Eucalyptus, OpenStack and the whatami server's emulator, which speak the same paths.
 */
final class Ec2Provider implements DefaultMetadataClient.ProviderClient {
    private static final Logger LOG = LoggerFactory.getLogger(Ec2Provider.class);
    static final String TOKEN_PATH = "/latest/api/token";
    static final String TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds";
    static final String TOKEN_HEADER = "X-aws-ec2-metadata-token";
    /** EC2 caps raw user-data at 16 KiB; other clouds allow more. Anything past 16 MiB is refused. */
    static final int MAX_BODY = 16 << 20;

    private final CloseableHttpClient http;
    private final URI endpoint;
    private final boolean v2Required;
    private final Duration tokenTtl;
    private final RequestConfig dataConfig;
    private final RequestConfig tokenConfig;
    private final Retrier retrier;
    private final Clock clock;

    private final Object tokenLock = new Object();
    private String token;
    private Instant tokenRefreshAt = Instant.MIN;
    private boolean v1Fallback;

    Ec2Provider(CloseableHttpClient http, URI endpoint, boolean v2Required, Duration tokenTtl, Duration readTimeout,
                Duration tokenTimeout, Retrier retrier, Clock clock) {
        this.http = http;
        String base = endpoint.toString();
        this.endpoint = URI.create(base.endsWith("/") ? base.substring(0, base.length() - 1) : base);
        this.v2Required = v2Required;
        this.tokenTtl = tokenTtl;
        this.dataConfig = RequestConfig.custom().setResponseTimeout(timeout(readTimeout)).build();
        // When v2 is required there is no fallback, so waiting longer for the token is the only way forward.
        this.tokenConfig = RequestConfig.custom()
                .setResponseTimeout(timeout(v2Required ? readTimeout : tokenTimeout)).build();
        this.retrier = retrier;
        this.clock = clock;
    }

    private static Timeout timeout(Duration d) {
        return Timeout.of(d.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public Provider provider() {
        return Provider.EC2;
    }

    @Override
    public Optional<byte[]> userData() {
        return get("/latest/user-data");
    }

    @Override
    public InstanceIdentity identity() {
        URI idUrl = url("/latest/meta-data/instance-id");
        String id = get("/latest/meta-data/instance-id").map(b -> new String(b, StandardCharsets.UTF_8).strip())
                .orElseThrow(() -> new MetadataProtocolException("the metadata service has no instance-id (404 at "
                        + idUrl + "); is the endpoint an EC2-compatible metadata service?", idUrl, 1, null));
        if (id.isEmpty() || id.length() > 255 || !id.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new MetadataProtocolException("the metadata service returned an unusable instance-id ("
                    + id.length() + " characters) at " + idUrl, idUrl, 1, null);
        }
        Optional<String> zone = get("/latest/meta-data/placement/availability-zone")
                .map(b -> new String(b, StandardCharsets.UTF_8).strip()).filter(s -> !s.isEmpty());
        Optional<String> region = get("/latest/meta-data/placement/region")
                .map(b -> new String(b, StandardCharsets.UTF_8).strip()).filter(s -> !s.isEmpty());
        return new InstanceIdentity(id, Provider.EC2, region, zone);
    }

    private URI url(String path) {
        return URI.create(endpoint + path);
    }

    /** GET with retries; empty on 404. */
    private Optional<byte[]> get(String path) {
        URI url = url(path);
        return retrier.call(url, attempt -> {
            Optional<String> t = token();
            Response r = execute(ClassicRequestBuilder.get(url), t, dataConfig);
            if (r.status == 401 && t.isPresent()) {
                LOG.debug("token rejected by {}; fetching a new one", url);
                dropToken();
                r = execute(ClassicRequestBuilder.get(url), token(), dataConfig);
            }
            return switch (classify(r, url, attempt)) {
                case OK -> Optional.of(r.body);
                case ABSENT -> Optional.<byte[]>empty();
            };
        });
    }

    private enum Outcome { OK, ABSENT }

    private Outcome classify(Response r, URI url, int attempt) throws Retrier.RetryableStatusException {
        if (r.status == 200) {
            if (r.body == null) {
                throw new MetadataProtocolException("the answer from " + url + " is larger than " + MAX_BODY
                        + " bytes; refusing it", url, attempt, null);
            }
            return Outcome.OK;
        }
        if (r.status == 404) {
            return Outcome.ABSENT;
        }
        if (r.status >= 500 || r.status == 429) {
            throw new Retrier.RetryableStatusException(r.status, r.reason);
        }
        String hint = r.status == 401 ? (v2Required ? "; the token was refused twice" : "; the service requires "
                + "IMDSv2 tokens but none could be had") : r.status == 403 ? "; the metadata service is disabled "
                + "for this instance or this path is forbidden" : "";
        throw new MetadataRefusedException("the metadata service answered HTTP " + r.status + " for " + url + hint,
                url, attempt, null);
    }

    /** The current IMDSv2 token, fetching one when needed; empty in IMDSv1 mode. */
    private Optional<String> token() throws IOException, Retrier.RetryableStatusException {
        synchronized (tokenLock) {
            if (v1Fallback) {
                return Optional.empty();
            }
            if (token != null && clock.instant().isBefore(tokenRefreshAt)) {
                return Optional.of(token);
            }
            URI url = url(TOKEN_PATH);
            Response r;
            try {
                r = execute(ClassicRequestBuilder.put(url).addHeader(TTL_HEADER,
                        Long.toString(tokenTtl.getSeconds())), Optional.empty(), tokenConfig);
            } catch (SocketTimeoutException e) {
                if (v2Required) {
                    throw e;
                }
                LOG.warn("IMDSv2 token request to {} timed out; using IMDSv1 (on EC2 this usually means the "
                        + "instance's metadata hop limit is too low for a container)", url);
                v1Fallback = true;
                return Optional.empty();
            }
            if (r.status == 200 && r.body != null && r.body.length > 0) {
                token = new String(r.body, StandardCharsets.UTF_8).strip();
                // refresh shortly before the TTL ends: a tenth of it, at most a minute early
                Duration margin = tokenTtl.dividedBy(10).compareTo(Duration.ofMinutes(1)) > 0
                        ? Duration.ofMinutes(1) : tokenTtl.dividedBy(10);
                tokenRefreshAt = clock.instant().plus(tokenTtl).minus(margin);
                return Optional.of(token);
            }
            if (r.status >= 500 || r.status == 429) {
                throw new Retrier.RetryableStatusException(r.status, r.reason);
            }
            if (r.status == 403) {
                throw new MetadataRefusedException("the metadata service at " + endpoint + " refused a token "
                        + "(HTTP 403): the instance metadata service is disabled for this instance. Enable it "
                        + "(aws ec2 modify-instance-metadata-options --http-endpoint enabled) or give the "
                        + "user-data another way (--user-data-file).", url, 1, null);
            }
            if (v2Required) {
                throw new MetadataRefusedException("IMDSv2 is required (--imds-v2-required) but " + url
                        + " answered HTTP " + r.status + " to the token request; the service does not offer "
                        + "IMDSv2. Drop --imds-v2-required to allow IMDSv1.", url, 1, null);
            }
            LOG.debug("token request answered {}; using IMDSv1", r.status);
            v1Fallback = true;
            return Optional.empty();
        }
    }

    private void dropToken() {
        synchronized (tokenLock) {
            token = null;
            tokenRefreshAt = Instant.MIN;
        }
    }

    private record Response(int status, String reason, byte[] body) {
    }

    private Response execute(ClassicRequestBuilder builder, Optional<String> token, RequestConfig config)
            throws IOException {
        token.ifPresent(t -> builder.addHeader(TOKEN_HEADER, t));
        ClassicHttpRequest request = builder.build();
        org.apache.hc.client5.http.protocol.HttpClientContext context =
                org.apache.hc.client5.http.protocol.HttpClientContext.create();
        context.setRequestConfig(config);
        return http.execute(request, context, response -> new Response(response.getCode(),
                response.getReasonPhrase(), response.getCode() == 200
                        ? HttpSupport.readBounded(response.getEntity(), MAX_BODY) : drain(response.getEntity())));
    }

    private static byte[] drain(org.apache.hc.core5.http.HttpEntity entity) throws IOException {
        org.apache.hc.core5.http.io.entity.EntityUtils.consume(entity);
        return new byte[0];
    }
}
