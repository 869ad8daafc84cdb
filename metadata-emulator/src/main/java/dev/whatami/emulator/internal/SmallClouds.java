package dev.whatami.emulator.internal;

import dev.whatami.emulator.EmulatorAnswer;
import dev.whatami.emulator.EmulatorRequest;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The metadata services with a handful of paths and no tokens: OCI, DigitalOcean, Hetzner. */
public final class SmallClouds {
    private SmallClouds() {
    }

    /** Oracle Cloud's {@code /opc/v2/}: {@code Authorization: Bearer Oracle}; base64 {@code user_data}. */
    public static CloudService oci(Settings s) {
        return new CloudService() {
            @Override
            public boolean owns(String path) {
                return path.startsWith("/opc/");
            }

            @Override
            public EmulatorAnswer answer(EmulatorRequest r) {
                if (!r.path().startsWith("/opc/v2/")) {
                    return CloudService.htmlError(404);
                }
                if (!"Bearer Oracle".equals(r.header("Authorization").orElse(null))) {
                    return EmulatorAnswer.of(401, "application/json", JsonBodies.compact(Map.of("code",
                            "NotAuthenticated", "message", "Authorization header is missing or invalid")));
                }
                if (r.header("Forwarded").isPresent() || r.header("X-Forwarded-For").isPresent()
                        || r.header("X-Forwarded-Host").isPresent()) {
                    return EmulatorAnswer.of(403, "application/json", JsonBodies.compact(Map.of("code", "Forbidden",
                            "message", "Forwarded requests are not allowed")));
                }
                Map<String, Object> instance = new LinkedHashMap<>();
                instance.put("availabilityDomain", s.zone().orElse("Uocm:PHX-AD-1"));
                instance.put("canonicalRegionName", s.region().orElse("us-phoenix-1"));
                instance.put("displayName", "whatami-instance");
                instance.put("id", s.instanceId().orElse("ocid1.instance.oc1.phx.abuhqljrexampleuniqueid"));
                instance.put("region", "phx");
                Map<String, Object> metadata = new LinkedHashMap<>();
                s.userData().ifPresent(u -> metadata.put("user_data", Base64.getEncoder().encodeToString(u)));
                instance.put("metadata", metadata);
                String p = r.path().substring("/opc/v2/".length());
                if (p.endsWith("/")) {
                    p = p.substring(0, p.length() - 1);
                }
                Object node = p.equals("instance") ? instance : p.startsWith("instance/metadata/")
                        ? metadata.get(p.substring("instance/metadata/".length())) : p.equals("instance/metadata")
                        ? metadata : p.startsWith("instance/") ? instance.get(p.substring("instance/".length())) : null;
                if (node == null) {
                    return EmulatorAnswer.of(404, "application/json", JsonBodies.compact(Map.of("code", "NotFound",
                            "message", "Not Found")));
                }
                return node instanceof String text ? EmulatorAnswer.of(200, "text/plain", text)
                        : EmulatorAnswer.of(200, "application/json", JsonBodies.compact(node));
            }
        };
    }

    /** DigitalOcean's {@code /metadata/v1/}. */
    public static CloudService digitalOcean(Settings s) {
        return new CloudService() {
            @Override
            public boolean owns(String path) {
                return path.equals("/metadata/v1") || path.startsWith("/metadata/v1/")
                        || path.equals("/metadata/v1.json");
            }

            @Override
            public EmulatorAnswer answer(EmulatorRequest r) {
                String id = s.instanceId().orElse("3164494");
                String region = s.region().orElse("ams3");
                if (r.path().equals("/metadata/v1.json")) {
                    Map<String, Object> doc = new LinkedHashMap<>();
                    doc.put("droplet_id", id);
                    doc.put("hostname", "whatami-droplet");
                    doc.put("region", region);
                    doc.put("user_data", s.userData().map(u -> new String(u, StandardCharsets.UTF_8)).orElse(null));
                    return EmulatorAnswer.of(200, "application/json", JsonBodies.compact(doc));
                }
                String p = r.path().endsWith("/") ? r.path().substring(0, r.path().length() - 1) : r.path();
                Optional<byte[]> body = switch (p) {
                    case "/metadata/v1" -> Optional.of(bytes("id\nhostname\nuser-data\nvendor-data\npublic-keys\n"
                            + "region\ninterfaces/\ndns/\nfloating_ip/\ntags/\nfeatures/"));
                    case "/metadata/v1/id" -> Optional.of(bytes(id));
                    case "/metadata/v1/hostname" -> Optional.of(bytes("whatami-droplet"));
                    case "/metadata/v1/region" -> Optional.of(bytes(region));
                    case "/metadata/v1/user-data" -> s.userData();
                    default -> Optional.empty();
                };
                return body.map(b -> EmulatorAnswer.of(200, "text/plain; charset=utf-8", b))
                        .orElseGet(() -> EmulatorAnswer.of(404, "text/plain; charset=utf-8", "not found"));
            }
        };
    }

    /** Hetzner Cloud's {@code /hetzner/v1/}. */
    public static CloudService hetzner(Settings s) {
        return new CloudService() {
            @Override
            public boolean owns(String path) {
                return path.startsWith("/hetzner/");
            }

            @Override
            public EmulatorAnswer answer(EmulatorRequest r) {
                Map<String, String> meta = new LinkedHashMap<>();
                meta.put("availability-zone", s.zone().orElse("fsn1-dc14"));
                meta.put("hostname", "whatami-server");
                meta.put("instance-id", s.instanceId().orElse("42"));
                meta.put("local-ipv4", s.localIpv4());
                meta.put("public-ipv4", "203.0.113.7");
                meta.put("region", s.region().orElse("eu-central"));
                String p = r.path().endsWith("/") ? r.path().substring(0, r.path().length() - 1) : r.path();
                if (p.equals("/hetzner/v1/userdata")) {
                    return EmulatorAnswer.of(200, "text/plain; charset=utf-8", s.userData().orElse(new byte[0]));
                }
                if (p.equals("/hetzner/v1/metadata")) {
                    StringBuilder yaml = new StringBuilder();
                    meta.forEach((k, v) -> yaml.append(k).append(": ").append(v).append('\n'));
                    return EmulatorAnswer.of(200, "text/yaml; charset=utf-8", yaml.toString());
                }
                if (p.startsWith("/hetzner/v1/metadata/") && meta.containsKey(p.substring(21))) {
                    return EmulatorAnswer.of(200, "text/plain; charset=utf-8", meta.get(p.substring(21)));
                }
                return EmulatorAnswer.of(404, "text/plain; charset=utf-8", "not found");
            }
        };
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
