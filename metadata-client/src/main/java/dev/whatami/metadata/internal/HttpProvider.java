package dev.whatami.metadata.internal;

import dev.whatami.metadata.InstanceIdentity;
import dev.whatami.metadata.MetadataClient;
import dev.whatami.metadata.MetadataException.Reason;
import dev.whatami.metadata.MetadataProtocolException;
import dev.whatami.metadata.MetadataRefusedException;
import dev.whatami.metadata.RetryLoop;
import dev.whatami.metadata.Provider;
import dev.whatami.metadata.UserDataTooLargeException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The metadata services that need no session token: GCE, Azure, OCI, DigitalOcean, Hetzner. Each is a
 * fixed set of paths and headers, described by a {@link Spec}.
 */
final class HttpProvider implements DefaultMetadataClient.ProviderClient {

    /**
     * How one provider answers.
     *
     * @param provider     which one
     * @param headers      headers every request carries
     * @param userDataPath path of the user-data
     * @param base64       whether the user-data arrives base64-encoded
     * @param idPath       path of the instance id
     * @param regionPath   path of the region, if any
     * @param zonePath     path of the zone, if any
     * @param zoneFixer    turns the zone answer into a zone name (GCE answers projects/N/zones/Z)
     * @param fallbackUrlPath a path whose answer is a script URL, used when there is no user-data (GCE's
     *                     startup-script-url), if any
     */
    record Spec(Provider provider, Map<String, String> headers, String userDataPath, boolean base64, String idPath,
                String regionPath, String zonePath, UnaryOperator<String> zoneFixer, String fallbackUrlPath) {
    }

    static final String AZURE_API = "api-version=2021-02-01&format=text";

    static final Spec GCE = new Spec(Provider.GCE, Map.of("Metadata-Flavor", "Google"),
            "/computeMetadata/v1/instance/attributes/user-data", false, "/computeMetadata/v1/instance/id", null,
            "/computeMetadata/v1/instance/zone", z -> z.substring(z.lastIndexOf('/') + 1),
            "/computeMetadata/v1/instance/attributes/startup-script-url");
    static final Spec AZURE = new Spec(Provider.AZURE, Map.of("Metadata", "true"),
            "/metadata/instance/compute/userData?" + AZURE_API, true, "/metadata/instance/compute/vmId?" + AZURE_API,
            "/metadata/instance/compute/location?" + AZURE_API, "/metadata/instance/compute/zone?" + AZURE_API,
            UnaryOperator.identity(), null);
    static final Spec OCI = new Spec(Provider.OCI, Map.of("Authorization", "Bearer Oracle"),
            "/opc/v2/instance/metadata/user_data", true, "/opc/v2/instance/id", "/opc/v2/instance/canonicalRegionName",
            "/opc/v2/instance/availabilityDomain", UnaryOperator.identity(), null);
    static final Spec DIGITALOCEAN = new Spec(Provider.DIGITALOCEAN, Map.of(), "/metadata/v1/user-data", false,
            "/metadata/v1/id", "/metadata/v1/region", null, UnaryOperator.identity(), null);
    static final Spec HETZNER = new Spec(Provider.HETZNER, Map.of(), "/hetzner/v1/userdata", false,
            "/hetzner/v1/metadata/instance-id", "/hetzner/v1/metadata/region",
            "/hetzner/v1/metadata/availability-zone", UnaryOperator.identity(), null);

    static Spec spec(Provider p) {
        return switch (p) {
            case GCE -> GCE;
            case AZURE -> AZURE;
            case OCI -> OCI;
            case DIGITALOCEAN -> DIGITALOCEAN;
            case HETZNER -> HETZNER;
            default -> throw new IllegalArgumentException(p + " is not a plain HTTP provider");
        };
    }

    private final BoundedExchange http;
    private final URI endpoint;
    private final Spec spec;
    private final Duration readTimeout;
    private final Retrier retrier;

    HttpProvider(BoundedExchange http, URI endpoint, Spec spec, Duration readTimeout, Retrier retrier) {
        this.http = http;
        String base = endpoint.toString();
        this.endpoint = URI.create(base.endsWith("/") ? base.substring(0, base.length() - 1) : base);
        this.spec = spec;
        this.readTimeout = readTimeout;
        this.retrier = retrier;
    }

    @Override
    public Provider provider() {
        return spec.provider();
    }

    @Override
    public Optional<byte[]> userData() {
        Call call = retrier.newCall();
        // base64 takes 4 bytes for 3: the raw answer may be a third longer than the limit on the decoded bytes
        int limit = spec.base64() ? MetadataClient.MAX_USER_DATA_BYTES / 3 * 4 + 8 : MetadataClient.MAX_USER_DATA_BYTES;
        Optional<byte[]> raw = get(call, spec.userDataPath(), limit, true)
                .filter(b -> b.length > 0);
        if (raw.isEmpty() && spec.fallbackUrlPath() != null) {
            // GCE: no user-data attribute, but a startup-script-url: run that script
            return get(call, spec.fallbackUrlPath(), Ec2Provider.MAX_VALUE, false)
                    .map(b -> new String(b, StandardCharsets.UTF_8).strip())
                    .filter(s -> !s.isEmpty()).map(url -> (url + "\n").getBytes(StandardCharsets.UTF_8));
        }
        if (raw.isPresent() && spec.base64()) {
            URI url = url(spec.userDataPath());
            byte[] decoded;
            try {
                decoded = Base64.getMimeDecoder().decode(raw.get());
            } catch (IllegalArgumentException e) {
                throw new MetadataProtocolException(Reason.MALFORMED_ANSWER, "the user-data at " + url
                        + " should be base64 but is not (" + e.getMessage() + ")", url, 1, e);
            }
            if (decoded.length > MetadataClient.MAX_USER_DATA_BYTES) {
                throw tooLarge(url, MetadataClient.MAX_USER_DATA_BYTES);
            }
            return Optional.of(decoded);
        }
        return raw;
    }

    @Override
    public InstanceIdentity identity() {
        Call call = retrier.newCall();
        URI idUrl = url(spec.idPath());
        String id = text(call, spec.idPath()).orElseThrow(() -> new MetadataProtocolException(Reason.MALFORMED_ANSWER,
                "the " + spec.provider().token() + " metadata service has no instance id (404 or empty at " + idUrl
                + ")", idUrl, 1, null));
        Optional<String> zone = spec.zonePath() == null ? Optional.empty()
                : text(call, spec.zonePath()).map(spec.zoneFixer());
        Optional<String> region = spec.regionPath() != null ? text(call, spec.regionPath())
                : zone.filter(z -> z.lastIndexOf('-') > 0).map(z -> z.substring(0, z.lastIndexOf('-')));
        return new InstanceIdentity(id, spec.provider(), region, zone);
    }

    private Optional<String> text(Call call, String path) {
        return get(call, path, Ec2Provider.MAX_VALUE, false).map(b -> new String(b, StandardCharsets.UTF_8).strip())
                .filter(s -> !s.isEmpty());
    }

    private URI url(String path) {
        return URI.create(endpoint + path);
    }

    private static RuntimeException tooLarge(URI url, int limit) {
        return new UserDataTooLargeException("the user-data at " + url + " is larger than " + limit + " bytes ("
                + (limit >> 20) + " MiB), the most whatami accepts; make it smaller (gzip it, or move the scripts to "
                + "a file server and name them in the user-data)", url, limit);
    }

    private Optional<byte[]> get(Call call, String path, int limit, boolean userData) {
        URI url = url(path);
        return retrier.call(url, call, attempt -> {
            BoundedExchange.Answer a;
            try {
                a = http.execute("GET", url, spec.headers(), readTimeout, call.timeLeft(), limit);
            } catch (BoundedExchange.TooLargeException e) {
                if (userData) {
                    throw tooLarge(url, MetadataClient.MAX_USER_DATA_BYTES);
                }
                throw new MetadataProtocolException(Reason.ANSWER_TOO_LARGE, "the answer from " + url
                        + " is larger than " + limit + " bytes; refusing it", url, attempt, null);
            }
            int status = a.status();
            if (status == 200) {
                return Optional.of(a.body());
            }
            if (status == 404) {
                return Optional.<byte[]>empty();
            }
            if (RetryLoop.retriedStatus(status)) {
                throw new Retrier.RetryableStatusException(status, a.reason(), a.retryAfter());
            }
            throw new MetadataRefusedException(status == 403 ? Reason.FORBIDDEN : Reason.REJECTED, "the "
                    + spec.provider().token() + " metadata service answered HTTP " + status + " for " + url, url,
                    attempt, null);
        });
    }
}
