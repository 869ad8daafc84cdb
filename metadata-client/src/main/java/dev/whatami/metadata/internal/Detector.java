package dev.whatami.metadata.internal;

import dev.whatami.metadata.MetadataException.Reason;
import dev.whatami.metadata.MetadataUnreachableException;
import dev.whatami.metadata.Provider;
import dev.whatami.metadata.RetryLoop;
import dev.whatami.metadata.RetryLoop.Outcome;
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
     * Probes every provider not in {@code skip}, round after round with the loop's backoff (a round is one of its
     * attempts), until one answers like itself or the loop's deadline (the detection timeout) passes.
     */
    static Provider probe(BoundedExchange http, Map<Provider, URI> endpoints, Set<Provider> skip, RetryLoop loop,
                          Duration probeTimeout, String evidence) {
        Clock clock = loop.clock();
        Instant end = clock.instant().plus(loop.policy().deadline());
        Map<Provider, String> last = new LinkedHashMap<>();
        return loop.run(end, round -> {
            for (Provider p : PROBE_ORDER) {
                if (skip.contains(p)) {
                    continue;
                }
                if (round > 1 && !clock.instant().isBefore(end)) {
                    break;
                }
                Duration left = Duration.between(clock.instant(), end);
                String outcome = probeOne(http, p, endpoints.get(p), probeTimeout,
                        left.compareTo(probeTimeout) < 0 && !left.isNegative() && !left.isZero() ? left : probeTimeout);
                if (outcome == null) {
                    LOG.info("detected {} by probing {}", p.token(), endpoints.get(p));
                    return Outcome.done(p);
                }
                LOG.debug("probe {} at {}: {}", p.token(), endpoints.get(p), outcome);
                last.put(p, outcome);
            }
            return Outcome.retry(null);
        }, stop -> {
            int rounds = stop.attempts();
            if (stop.reason() == RetryLoop.Stop.Reason.INTERRUPTED) {
                throw new MetadataUnreachableException(Reason.INTERRUPTED, "interrupted while detecting the cloud",
                        null, rounds, stop.cause());
            }
            List<String> tried = new ArrayList<>();
            last.forEach((p, o) -> tried.add(p.token() + " at " + endpoints.get(p) + " (" + o + ")"));
            throw new MetadataUnreachableException(Reason.NOT_DETECTED, "no metadata service found within "
                    + loop.policy().deadline().toSeconds() + " s (" + rounds + (rounds == 1 ? " round" : " rounds")
                    + " of probes). The platform says: " + evidence + ". Probed: " + String.join("; ", tried)
                    + ". Not on a cloud? Give the user-data with provider(Provider.NOCLOUD) and "
                    + "noCloudSource(path); on a cloud, name it with provider(...) (and endpoint(...)).", null,
                    rounds, null);
        });
    }

    /** Null when {@code p} answered as itself, else what happened. */
    private static String probeOne(BoundedExchange http, Provider p, URI endpoint, Duration timeout, Duration budget) {
        String base = endpoint.toString().endsWith("/")
                ? endpoint.toString().substring(0, endpoint.toString().length() - 1) : endpoint.toString();
        String path = switch (p) {
            case EC2 -> "/latest/meta-data/instance-id";
            case GCE -> HttpProvider.GCE.idPath();
            case AZURE -> HttpProvider.AZURE.idPath();
            case OCI -> HttpProvider.OCI.idPath();
            case DIGITALOCEAN -> HttpProvider.DIGITALOCEAN.idPath();
            case HETZNER -> HttpProvider.HETZNER.idPath();
            default -> throw new IllegalArgumentException(p.token());
        };
        Map<String, String> headers = p == Provider.EC2 ? Map.of() : HttpProvider.spec(p).headers();
        try {
            BoundedExchange.Answer a = http.execute("GET", URI.create(base + path), headers, timeout, budget, 4096);
            int status = a.status();
            boolean itself = switch (p) {
                // 401: an EC2 service that requires IMDSv2 tokens
                case EC2 -> status == 200 || status == 401;
                case GCE -> status == 200 && a.flavor().filter("Google"::equals).isPresent();
                default -> status == 200;
            };
            return itself ? null : "HTTP " + status;
        } catch (IOException e) {
            return e.getClass().getSimpleName();
        }
    }
}
