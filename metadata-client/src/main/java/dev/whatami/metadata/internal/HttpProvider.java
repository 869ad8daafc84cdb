package dev.whatami.metadata.internal;

import dev.whatami.metadata.InstanceIdentity;
import dev.whatami.metadata.MetadataProtocolException;
import dev.whatami.metadata.MetadataRefusedException;
import dev.whatami.metadata.Provider;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.support.ClassicRequestBuilder;
import org.apache.hc.core5.util.Timeout;

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

    private final CloseableHttpClient http;
    private final URI endpoint;
    private final Spec spec;
    private final RequestConfig config;
    private final Retrier retrier;

    HttpProvider(CloseableHttpClient http, URI endpoint, Spec spec, Duration readTimeout, Retrier retrier) {
        this.http = http;
        String base = endpoint.toString();
        this.endpoint = URI.create(base.endsWith("/") ? base.substring(0, base.length() - 1) : base);
        this.spec = spec;
        this.config = RequestConfig.custom()
                .setResponseTimeout(Timeout.of(readTimeout.toMillis(), TimeUnit.MILLISECONDS)).build();
        this.retrier = retrier;
    }

    @Override
    public Provider provider() {
        return spec.provider();
    }

    @Override
    public Optional<byte[]> userData() {
        Optional<byte[]> raw = get(spec.userDataPath()).filter(b -> b.length > 0);
        if (raw.isEmpty() && spec.fallbackUrlPath() != null) {
            // GCE: no user-data attribute, but a startup-script-url: run that script
            return get(spec.fallbackUrlPath()).map(b -> new String(b, StandardCharsets.UTF_8).strip())
                    .filter(s -> !s.isEmpty()).map(url -> (url + "\n").getBytes(StandardCharsets.UTF_8));
        }
        if (raw.isPresent() && spec.base64()) {
            URI url = url(spec.userDataPath());
            try {
                return Optional.of(Base64.getMimeDecoder().decode(raw.get()));
            } catch (IllegalArgumentException e) {
                throw new MetadataProtocolException("the user-data at " + url + " should be base64 but is not ("
                        + e.getMessage() + ")", url, 1, e);
            }
        }
        return raw;
    }

    @Override
    public InstanceIdentity identity() {
        URI idUrl = url(spec.idPath());
        String id = text(spec.idPath()).orElseThrow(() -> new MetadataProtocolException("the "
                + spec.provider().token() + " metadata service has no instance id (404 at " + idUrl + ")", idUrl, 1,
                null));
        Optional<String> zone = spec.zonePath() == null ? Optional.empty()
                : text(spec.zonePath()).map(spec.zoneFixer());
        Optional<String> region = spec.regionPath() != null ? text(spec.regionPath())
                : zone.filter(z -> z.lastIndexOf('-') > 0).map(z -> z.substring(0, z.lastIndexOf('-')));
        return new InstanceIdentity(id, spec.provider(), region, zone);
    }

    private Optional<String> text(String path) {
        return get(path).map(b -> new String(b, StandardCharsets.UTF_8).strip()).filter(s -> !s.isEmpty());
    }

    private URI url(String path) {
        return URI.create(endpoint + path);
    }

    private Optional<byte[]> get(String path) {
        URI url = url(path);
        return retrier.call(url, attempt -> {
            ClassicRequestBuilder b = ClassicRequestBuilder.get(url);
            spec.headers().forEach(b::addHeader);
            HttpClientContext context = HttpClientContext.create();
            context.setRequestConfig(config);
            return http.execute(b.build(), context, response -> {
                int status = response.getCode();
                if (status == 200) {
                    byte[] body = HttpSupport.readBounded(response.getEntity(), Ec2Provider.MAX_BODY);
                    if (body == null) {
                        throw new MetadataProtocolException("the answer from " + url + " is larger than "
                                + Ec2Provider.MAX_BODY + " bytes; refusing it", url, attempt, null);
                    }
                    return Optional.of(body);
                }
                EntityUtils.consume(response.getEntity());
                if (status == 404) {
                    return Optional.<byte[]>empty();
                }
                if (status >= 500 || status == 429) {
                    throw new IOException("HTTP " + status);
                }
                throw new MetadataRefusedException("the " + spec.provider().token() + " metadata service answered "
                        + "HTTP " + status + " for " + url, url, attempt, null);
            });
        });
    }
}
