package dev.whatami.metadata.internal;

import dev.whatami.metadata.MetadataUnreachableException;
import dev.whatami.metadata.Provider;
import dev.whatami.metadata.Sleeper;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.support.ClassicRequestBuilder;
import org.apache.hc.core5.util.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which cloud is this? First the platform's own word (DMI strings in sysfs, the Xen hypervisor uuid), then
 * probing each metadata service in a fixed order, all under one deadline.
 */
final class Detector {
    private static final Logger LOG = LoggerFactory.getLogger(Detector.class);
    /** Azure's fixed chassis asset tag. */
    static final String AZURE_ASSET_TAG = "7783-7084-3265-9085-8269-3286-77";
    static final List<Provider> PROBE_ORDER = List.of(Provider.EC2, Provider.GCE, Provider.AZURE, Provider.OCI,
            Provider.DIGITALOCEAN, Provider.HETZNER);

    /** What the platform says about itself. */
    record Hint(Optional<Provider> provider, String evidence) {
    }

    private Detector() {
    }

    static Hint fromPlatform(Path sysfsRoot) {
        Path dmi = sysfsRoot.resolve("sys/class/dmi/id");
        String vendor = read(dmi.resolve("sys_vendor"));
        String product = read(dmi.resolve("product_name"));
        String asset = read(dmi.resolve("chassis_asset_tag"));
        String xen = read(sysfsRoot.resolve("sys/hypervisor/uuid"));
        String evidence = "DMI sys_vendor=\"" + vendor + "\", product_name=\"" + product + "\", chassis_asset_tag=\""
                + asset + "\"" + (xen.isEmpty() ? "" : ", hypervisor uuid " + xen);
        String v = vendor.toLowerCase(Locale.ROOT);
        String p = product.toLowerCase(Locale.ROOT);
        Provider hint = null;
        if (v.contains("amazon") || p.startsWith("amazon ec2") || xen.toLowerCase(Locale.ROOT).startsWith("ec2")
                || p.contains("openstack") || v.contains("openstack") || v.contains("eucalyptus")) {
            hint = Provider.EC2;
        } else if (p.contains("google compute engine") || v.equals("google")) {
            hint = Provider.GCE;
        } else if (asset.equals(AZURE_ASSET_TAG)) {
            hint = Provider.AZURE;
        } else if (asset.equals("OracleCloud.com")) {
            hint = Provider.OCI;
        } else if (v.contains("digitalocean")) {
            hint = Provider.DIGITALOCEAN;
        } else if (v.contains("hetzner")) {
            hint = Provider.HETZNER;
        }
        return new Hint(Optional.ofNullable(hint), evidence);
    }

    private static String read(Path p) {
        try {
            return Files.isReadable(p) ? Files.readString(p, StandardCharsets.UTF_8).strip() : "";
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * Probes every provider not in {@code skip}, round after round with backoff, until one answers like itself or
     * the deadline passes.
     */
    static Provider probe(CloseableHttpClient http, Map<Provider, URI> endpoints, Set<Provider> skip,
                          Duration deadline, Duration probeTimeout, Clock clock, Sleeper sleeper, String evidence) {
        RequestConfig config = RequestConfig.custom()
                .setResponseTimeout(Timeout.of(probeTimeout.toMillis(), TimeUnit.MILLISECONDS)).build();
        Instant start = clock.instant();
        Instant end = start.plus(deadline);
        Map<Provider, String> last = new LinkedHashMap<>();
        int rounds = 0;
        Duration wait = Duration.ofMillis(100);
        while (true) {
            rounds++;
            for (Provider p : PROBE_ORDER) {
                if (skip.contains(p)) {
                    continue;
                }
                if (rounds > 1 && clock.instant().isAfter(end)) {
                    break;
                }
                String outcome = probeOne(http, p, endpoints.get(p), config);
                if (outcome == null) {
                    LOG.info("detected {} by probing {}", p.token(), endpoints.get(p));
                    return p;
                }
                last.put(p, outcome);
            }
            Instant now = clock.instant();
            if (!now.plus(wait).isBefore(end)) {
                List<String> tried = new ArrayList<>();
                last.forEach((p, o) -> tried.add(p.token() + " at " + endpoints.get(p) + " (" + o + ")"));
                throw new MetadataUnreachableException("no metadata service found within " + deadline.toSeconds()
                        + " s (" + rounds + " rounds of probes). The platform says: " + evidence + ". Probed: "
                        + String.join("; ", tried) + ". Not on a cloud? Give the user-data with --user-data-file "
                        + "(or --provider nocloud); on a cloud, name it with --provider.", null, rounds, null);
            }
            try {
                sleeper.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new MetadataUnreachableException("interrupted while detecting the cloud", null, rounds, e);
            }
            wait = wait.multipliedBy(2).compareTo(Duration.ofSeconds(2)) > 0 ? Duration.ofSeconds(2) : wait.multipliedBy(2);
        }
    }

    /** Null when {@code p} answered as itself, else what happened. */
    private static String probeOne(CloseableHttpClient http, Provider p, URI endpoint, RequestConfig config) {
        String base = endpoint.toString().endsWith("/") ? endpoint.toString().substring(0, endpoint.toString().length() - 1)
                : endpoint.toString();
        ClassicRequestBuilder request = switch (p) {
            case EC2 -> ClassicRequestBuilder.get(base + "/latest/meta-data/instance-id");
            case GCE -> ClassicRequestBuilder.get(base + HttpProvider.GCE.idPath()).addHeader("Metadata-Flavor", "Google");
            case AZURE -> ClassicRequestBuilder.get(base + HttpProvider.AZURE.idPath()).addHeader("Metadata", "true");
            case OCI -> ClassicRequestBuilder.get(base + HttpProvider.OCI.idPath())
                    .addHeader("Authorization", "Bearer Oracle");
            case DIGITALOCEAN -> ClassicRequestBuilder.get(base + HttpProvider.DIGITALOCEAN.idPath());
            case HETZNER -> ClassicRequestBuilder.get(base + HttpProvider.HETZNER.idPath());
            default -> throw new IllegalArgumentException(p.token());
        };
        HttpClientContext context = HttpClientContext.create();
        context.setRequestConfig(config);
        try {
            return http.execute(request.build(), context, response -> {
                EntityUtils.consume(response.getEntity());
                int status = response.getCode();
                boolean itself = switch (p) {
                    // 401: an EC2 service that requires IMDSv2 tokens
                    case EC2 -> status == 200 || status == 401;
                    case GCE -> status == 200 && response.getFirstHeader("Metadata-Flavor") != null
                            && "Google".equals(response.getFirstHeader("Metadata-Flavor").getValue());
                    default -> status == 200;
                };
                return itself ? null : "HTTP " + status;
            });
        } catch (IOException e) {
            return e.getClass().getSimpleName();
        }
    }
}
