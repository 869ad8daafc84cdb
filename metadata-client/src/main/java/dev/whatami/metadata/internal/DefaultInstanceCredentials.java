package dev.whatami.metadata.internal;

import dev.whatami.metadata.AccessToken;
import dev.whatami.metadata.AwsCredentials;
import dev.whatami.metadata.InstanceCredentials;
import dev.whatami.metadata.MetadataException.Reason;
import dev.whatami.metadata.MetadataProtocolException;
import dev.whatami.metadata.MetadataRefusedException;
import dev.whatami.metadata.RetryLoop;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * {@link InstanceCredentials} over the client's own HTTP exchange, retry policy and EC2 token handling. Each answer
 * is cached until shortly before it expires. Thread-safe: each cache is guarded by this object.
 */
final class DefaultInstanceCredentials implements InstanceCredentials {
    static final String ROLES = "/latest/meta-data/iam/security-credentials/";
    static final String GCE_TOKEN = "/computeMetadata/v1/instance/service-accounts/default/token";
    static final String AZURE_TOKEN = "/metadata/identity/oauth2/token";
    static final String AZURE_API = "2018-02-01";
    private static final Duration MARGIN = Duration.ofMinutes(5);

    private final Supplier<Ec2Provider> ec2;
    private final boolean ec2Disabled;
    private final BoundedExchange http;
    private final URI gce;
    private final URI azure;
    private final Duration readTimeout;
    private final Retrier retrier;
    private final Clock clock;

    private Cached<AwsCredentials> aws;
    private Optional<String> region;
    private Cached<AccessToken> gceToken;
    private final Map<String, Cached<AccessToken>> azureTokens = new HashMap<>();

    /** A value and when to ask again; empty values are asked again at once (a role may be attached later). */
    private record Cached<T>(Optional<T> value, Instant renewAt) {
    }

    DefaultInstanceCredentials(Supplier<Ec2Provider> ec2, boolean ec2Disabled, BoundedExchange http, URI gce,
                               URI azure, Duration readTimeout, Retrier retrier) {
        this.ec2 = ec2;
        this.ec2Disabled = ec2Disabled;
        this.http = http;
        this.gce = strip(gce);
        this.azure = strip(azure);
        this.readTimeout = readTimeout;
        this.retrier = retrier;
        this.clock = retrier.clock();
    }

    private static URI strip(URI u) {
        String s = u.toString();
        return URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
    }

    private boolean fresh(Cached<?> c) {
        return c != null && c.value().isPresent() && clock.instant().isBefore(c.renewAt());
    }

    /** When to renew something that expires at {@code expiration}, fetched now. */
    private Instant renewAt(Instant expiration) {
        Instant now = clock.instant();
        Duration quarter = Duration.between(now, expiration).dividedBy(4);
        Duration margin = quarter.isNegative() ? Duration.ZERO : quarter.compareTo(MARGIN) < 0 ? quarter : MARGIN;
        return expiration.minus(margin);
    }

    @Override
    public synchronized Optional<AwsCredentials> awsCredentials() {
        if (ec2Disabled) {
            return Optional.empty();
        }
        if (fresh(aws)) {
            return aws.value();
        }
        Ec2Provider p = ec2.get();
        Call call = retrier.newCall();
        Optional<String> role = p.text(call, ROLES).map(s -> s.lines().findFirst().orElse("").strip())
                .filter(s -> !s.isEmpty());
        if (role.isEmpty()) {
            aws = null;
            return Optional.empty();
        }
        URI url = p.url(ROLES + role.get());
        Optional<byte[]> body = p.get(call, ROLES + role.get(), Ec2Provider.MAX_VALUE, false);
        if (body.isEmpty()) {
            aws = null;
            return Optional.empty();
        }
        Map<String, Object> doc = json(body.get(), url, "the EC2 role's credentials");
        Object code = doc.get("Code");
        if (code != null && !"Success".equals(code)) {
            throw new MetadataRefusedException(Reason.REJECTED, "the EC2 instance role " + role.get() + " has no "
                    + "usable credentials (Code " + code + " at " + url + "); check the instance profile and its "
                    + "role", url, 1, null);
        }
        String id = string(doc, "AccessKeyId", url);
        String secret = string(doc, "SecretAccessKey", url);
        Optional<String> token = Optional.ofNullable(doc.get("Token")).map(Object::toString);
        Optional<Instant> expiration = Optional.ofNullable(doc.get("Expiration")).map(e -> instant(e, url));
        AwsCredentials c = new AwsCredentials(id, secret, token, expiration);
        aws = new Cached<>(Optional.of(c), expiration.map(this::renewAt).orElse(Instant.MAX));
        return aws.value();
    }

    @Override
    public synchronized Optional<String> awsRegion() {
        if (ec2Disabled) {
            return Optional.empty();
        }
        if (region == null) {
            Ec2Provider p = ec2.get();
            String path = "/latest/dynamic/instance-identity/document";
            Optional<byte[]> body = p.get(retrier.newCall(), path, Ec2Provider.MAX_VALUE, false);
            region = body.map(b -> json(b, p.url(path), "the identity document").get("region"))
                    .map(Object::toString).filter(s -> !s.isBlank());
        }
        return region;
    }

    @Override
    public synchronized Optional<AccessToken> gceAccessToken() {
        if (fresh(gceToken)) {
            return gceToken.value();
        }
        URI url = URI.create(gce + GCE_TOKEN);
        Optional<byte[]> body = get(url, Map.of("Metadata-Flavor", "Google"), false);
        if (body.isEmpty()) {
            gceToken = null;
            return Optional.empty();
        }
        Map<String, Object> doc = json(body.get(), url, "the service account's token");
        String value = string(doc, "access_token", url);
        Instant expiration = clock.instant().plusSeconds(number(doc.get("expires_in"), "expires_in", url));
        gceToken = new Cached<>(Optional.of(new AccessToken(value, expiration)), renewAt(expiration));
        return gceToken.value();
    }

    @Override
    public synchronized Optional<AccessToken> azureAccessToken(String resource) {
        if (resource == null || resource.isBlank()) {
            throw new IllegalArgumentException("give the resource the token is for, e.g. https://storage.azure.com/");
        }
        Cached<AccessToken> c = azureTokens.get(resource);
        if (fresh(c)) {
            return c.value();
        }
        URI url = URI.create(azure + AZURE_TOKEN + "?api-version=" + AZURE_API + "&resource="
                + URLEncoder.encode(resource, StandardCharsets.UTF_8));
        Optional<byte[]> body = get(url, Map.of("Metadata", "true"), true);
        if (body.isEmpty()) {
            azureTokens.remove(resource);
            return Optional.empty();
        }
        Map<String, Object> doc = json(body.get(), url, "the managed identity's token");
        String value = string(doc, "access_token", url);
        Instant expiration = Instant.ofEpochSecond(number(doc.get("expires_on"), "expires_on", url));
        c = new Cached<>(Optional.of(new AccessToken(value, expiration)), renewAt(expiration));
        azureTokens.put(resource, c);
        return c.value();
    }

    /** GET with retries; empty for "no such identity" (404; Azure's 400 "Identity not found"). */
    private Optional<byte[]> get(URI url, Map<String, String> headers, boolean azureIdentity) {
        Call call = retrier.newCall();
        return retrier.call(url, call, attempt -> {
            BoundedExchange.Answer a = http.execute("GET", url, headers, readTimeout, call.timeLeft(),
                    Ec2Provider.MAX_VALUE);
            int status = a.status();
            if (status == 200) {
                return Optional.of(a.body());
            }
            if (status == 404 && !azureIdentity) {
                return Optional.<byte[]>empty();
            }
            if (azureIdentity && status == 400
                    && new String(a.body(), StandardCharsets.UTF_8).contains("Identity not found")) {
                return Optional.<byte[]>empty();
            }
            // Azure asks clients to retry 404 and 410 (the identity endpoint is starting) as well as 408, 429, 5xx
            if (RetryLoop.retriedStatus(status) || azureIdentity && (status == 404 || status == 410)) {
                throw new Retrier.RetryableStatusException(status, a.reason(), a.retryAfter());
            }
            throw new MetadataRefusedException(status == 403 ? Reason.FORBIDDEN : Reason.REJECTED, "the metadata "
                    + "service answered HTTP " + status + " for " + url, url, attempt, null);
        });
    }

    private static Map<String, Object> json(byte[] body, URI url, String what) {
        try {
            return MetadataJson.object(body);
        } catch (IllegalArgumentException e) {
            // never the body: it holds secrets
            throw new MetadataProtocolException(Reason.MALFORMED_ANSWER, what + " at " + url + " is not the JSON "
                    + "object expected (" + e.getMessage() + ")", url, 1, null);
        }
    }

    private static String string(Map<String, Object> doc, String key, URI url) {
        Object v = doc.get(key);
        if (!(v instanceof String s) || s.isBlank()) {
            throw new MetadataProtocolException(Reason.MALFORMED_ANSWER, "the answer at " + url + " has no " + key,
                    url, 1, null);
        }
        return s;
    }

    private static long number(Object v, String key, URI url) {
        try {
            if (v instanceof Number n) {
                return n.longValue();
            }
            if (v instanceof String s) {
                return Long.parseLong(s.strip());
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new MetadataProtocolException(Reason.MALFORMED_ANSWER, "the answer at " + url + " has no number " + key,
                url, 1, null);
    }

    private static Instant instant(Object v, URI url) {
        try {
            return Instant.parse(v.toString());
        } catch (DateTimeParseException e) {
            throw new MetadataProtocolException(Reason.MALFORMED_ANSWER, "the credentials at " + url + " have an "
                    + "Expiration that is not an ISO-8601 time", url, 1, null);
        }
    }
}
