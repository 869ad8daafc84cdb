package dev.whatami.emulator.internal;

import dev.whatami.emulator.EmulatorAnswer;
import dev.whatami.emulator.EmulatorRequest;
import dev.whatami.emulator.IssuedToken;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Azure's IMDS: {@code Metadata: true} and {@code api-version} on every request, the instance document and its
 * leaves ({@code format=text}), base64 {@code compute/userData}, and managed-identity tokens.
 */
public final class AzureService implements CloudService {
    static final String CLIENT_ID = "7c2a8d2e-9b4a-4a57-9c1e-0a1b2c3d4e5f";
    private static final Pattern VERSION = Pattern.compile("20\\d\\d-\\d\\d-\\d\\d(-preview)?");
    private static final List<String> NEWEST = List.of("2023-07-01", "2021-12-13", "2021-11-15");

    private final Settings s;
    private final Secrets secrets;

    public AzureService(Settings settings, Secrets secrets) {
        this.s = settings;
        this.secrets = secrets;
    }

    @Override
    public boolean owns(String path) {
        return path.startsWith("/metadata/instance") || path.startsWith("/metadata/identity")
                || path.startsWith("/metadata/versions") || path.startsWith("/metadata/attested");
    }

    @Override
    public EmulatorAnswer answer(EmulatorRequest r) {
        if (r.header("X-Forwarded-For").isPresent()) {
            return error(400, "Bad request. Requests with the X-Forwarded-For header are not allowed");
        }
        if (!"true".equalsIgnoreCase(r.header("Metadata").orElse(""))) {
            return error(400, "Bad request. Required metadata header not specified");
        }
        if (!r.method().equals("GET")) {
            return error(405, "Method not allowed");
        }
        if (r.path().startsWith("/metadata/versions")) {
            return json(Map.of("apiVersions", NEWEST));
        }
        Optional<String> version = r.queryParameter("api-version");
        if (version.isEmpty()) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("error", "Bad request. api-version was not specified in the request. For more information refer"
                    + " to aka.ms/azureimds");
            doc.put("newest-versions", NEWEST);
            return json(400, doc);
        }
        if (!VERSION.matcher(version.get()).matches()) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("error", "Bad request. api-version is invalid or was not specified in the request. For more "
                    + "information refer to aka.ms/azureimds");
            doc.put("newest-versions", NEWEST);
            return json(400, doc);
        }
        if (r.path().startsWith("/metadata/identity")) {
            return identity(r);
        }
        return instance(r);
    }

    private EmulatorAnswer identity(EmulatorRequest r) {
        if (!r.path().equals("/metadata/identity/oauth2/token")) {
            return error(404, "Not found");
        }
        Optional<String> resource = r.queryParameter("resource");
        if (resource.isEmpty() || resource.get().isBlank()) {
            return oauthError("invalid_request", "Required query variable 'resource' is missing");
        }
        if (!s.azureIdentity()) {
            return oauthError("invalid_request", "Identity not found");
        }
        IssuedToken t = secrets.accessToken("azure:" + resource.get(), "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.");
        long now = s.clock().instant().getEpochSecond();
        long left = Math.max(0, Duration.between(s.clock().instant(), t.expiration()).getSeconds());
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("access_token", t.value());
        doc.put("client_id", CLIENT_ID);
        doc.put("expires_in", Long.toString(left));
        doc.put("expires_on", Long.toString(t.expiration().getEpochSecond()));
        doc.put("ext_expires_in", Long.toString(left));
        doc.put("not_before", Long.toString(now));
        doc.put("resource", resource.get());
        doc.put("token_type", "Bearer");
        return json(doc);
    }

    private Map<String, Object> compute() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("azEnvironment", "AzurePublicCloud");
        c.put("location", s.region().orElse("westeurope"));
        c.put("name", "whatami-vm");
        c.put("osType", "Linux");
        c.put("userData", s.userData().map(u -> Base64.getEncoder().encodeToString(u)).orElse(""));
        c.put("vmId", s.instanceId().orElse("02aab8a4-74ef-476e-8182-f6d2ba4166a6"));
        c.put("vmSize", "Standard_B1s");
        c.put("zone", s.zone().orElse(""));
        return c;
    }

    private EmulatorAnswer instance(EmulatorRequest r) {
        String p = r.path().endsWith("/") ? r.path().substring(0, r.path().length() - 1) : r.path();
        boolean text = "text".equals(r.queryParameter("format").orElse("json"));
        Map<String, Object> compute = compute();
        Object node;
        if (p.equals("/metadata/instance")) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("compute", compute);
            doc.put("network", Map.of("interface", List.of(Map.of("ipv4", Map.of("ipAddress",
                    List.of(Map.of("privateIpAddress", s.localIpv4(), "publicIpAddress", "")))))));
            node = doc;
        } else if (p.equals("/metadata/instance/compute")) {
            node = compute;
        } else if (p.startsWith("/metadata/instance/compute/") && compute.containsKey(p.substring(27))) {
            node = compute.get(p.substring(27));
        } else {
            return error(404, "Not found");
        }
        if (node instanceof String leaf) {
            if (text) {
                return EmulatorAnswer.of(200, "text/plain; charset=utf-8", leaf);
            }
            return EmulatorAnswer.of(200, "application/json; charset=utf-8", JsonBodies.compact(leaf));
        }
        if (text) {
            return error(400, "Bad request. Query parameter format should be json for non-leaf nodes");
        }
        return json((Map<?, ?>) node);
    }

    private static EmulatorAnswer error(int status, String message) {
        return json(status, Map.of("error", message));
    }

    private static EmulatorAnswer oauthError(String error, String description) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("error", error);
        doc.put("error_description", description);
        return json(400, doc);
    }

    private static EmulatorAnswer json(Map<?, ?> doc) {
        return json(200, doc);
    }

    private static EmulatorAnswer json(int status, Map<?, ?> doc) {
        return EmulatorAnswer.of(status, "application/json; charset=utf-8", JsonBodies.compact(doc));
    }
}
