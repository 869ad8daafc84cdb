package dev.whatami.emulator.internal;

import dev.whatami.emulator.EmulatorAnswer;
import dev.whatami.emulator.EmulatorRequest;
import dev.whatami.emulator.IssuedToken;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * GCE's metadata server: {@code Metadata-Flavor: Google} on every request and every answer, attributes (user-data,
 * startup-script-url), the default service account's access token.
 */
public final class GceService implements CloudService {
    static final String PREFIX = "/computeMetadata/v1/";
    static final String PROJECT_NUMBER = "123456789012";

    private final Settings s;
    private final Secrets secrets;

    public GceService(Settings settings, Secrets secrets) {
        this.s = settings;
        this.secrets = secrets;
    }

    @Override
    public boolean owns(String path) {
        return path.equals("/computeMetadata") || path.startsWith("/computeMetadata/");
    }

    private String zone() {
        return s.zone().orElse("europe-west1-b");
    }

    @Override
    public EmulatorAnswer answer(EmulatorRequest r) {
        if (!"Google".equals(r.header("Metadata-Flavor").orElse(null))
                || r.header("X-Forwarded-For").isPresent()) {
            return google(EmulatorAnswer.of(403, "text/html; charset=UTF-8", "<!DOCTYPE html>\n<html lang=en>\n"
                    + "  <title>Error 403 (Forbidden)!!1</title>\n  <p><b>403.</b> <ins>That\u2019s an error.</ins>\n"
                    + "  <p>Your client does not have permission to get URL <code>" + r.path() + "</code> from this "
                    + "server. Missing Metadata-Flavor:Google header. <ins>That\u2019s all we know.</ins>\n"));
        }
        if (!r.method().equals("GET") && !r.method().equals("HEAD")) {
            return google(CloudService.htmlError(405));
        }
        String p = r.path();
        if (!p.startsWith(PREFIX)) {
            return p.equals("/computeMetadata") || p.equals("/computeMetadata/") ? text("v1/") : notFound();
        }
        String rest = p.substring(PREFIX.length());
        if (rest.endsWith("/")) {
            rest = rest.substring(0, rest.length() - 1);
        }
        String account = s.gceServiceAccount().orElse(null);
        return switch (rest) {
            case "" -> text(CloudService.listing("instance/", "oslogin/", "project/"));
            case "instance" -> text(CloudService.listing("attributes/", "hostname", "id", "name", "service-accounts/",
                    "zone"));
            case "instance/id" -> text(s.instanceId().orElse("4520031799277581759"));
            case "instance/name" -> text("whatami-instance");
            case "instance/hostname" -> text("whatami-instance." + zone() + ".c.whatami-project.internal");
            case "instance/zone" -> text("projects/" + PROJECT_NUMBER + "/zones/" + zone());
            case "instance/attributes" -> text(String.join("\n", attributes().keySet()));
            case "instance/service-accounts" -> account == null ? text("") : text(CloudService.listing("default/",
                    account + "/"));
            case "project/project-id" -> text("whatami-project");
            case "project/numeric-project-id" -> text(PROJECT_NUMBER);
            default -> other(rest, account);
        };
    }

    private EmulatorAnswer other(String rest, String account) {
        if (rest.startsWith("instance/attributes/")) {
            byte[] value = attributes().get(rest.substring("instance/attributes/".length()));
            return value == null ? notFound() : google(EmulatorAnswer.of(200, "application/text", value));
        }
        String accounts = "instance/service-accounts/";
        if (account == null || !rest.startsWith(accounts)) {
            return notFound();
        }
        String tail = rest.substring(accounts.length());
        int slash = tail.indexOf('/');
        String name = slash < 0 ? tail : tail.substring(0, slash);
        String leaf = slash < 0 ? "" : tail.substring(slash + 1);
        if (!name.equals("default") && !name.equals(account)) {
            return notFound();
        }
        return switch (leaf) {
            case "" -> text(CloudService.listing("aliases", "email", "identity", "scopes", "token"));
            case "email" -> text(account);
            case "aliases" -> text("default");
            case "scopes" -> text("https://www.googleapis.com/auth/cloud-platform");
            case "token" -> token(account);
            default -> notFound();
        };
    }

    private EmulatorAnswer token(String account) {
        IssuedToken t = secrets.accessToken("gce:" + account, "ya29.");
        long left = Math.max(0, Duration.between(s.clock().instant(), t.expiration()).getSeconds());
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("access_token", t.value());
        doc.put("expires_in", left);
        doc.put("token_type", "Bearer");
        return google(EmulatorAnswer.of(200, "application/json", JsonBodies.compact(doc)));
    }

    private Map<String, byte[]> attributes() {
        Map<String, byte[]> a = new LinkedHashMap<>();
        s.gceStartupScriptUrl().ifPresent(u -> a.put("startup-script-url", u.getBytes(StandardCharsets.UTF_8)));
        s.userData().ifPresent(u -> a.put("user-data", u));
        return a;
    }

    private static EmulatorAnswer text(String body) {
        return google(EmulatorAnswer.of(200, "application/text", body));
    }

    private static EmulatorAnswer notFound() {
        return google(CloudService.htmlError(404));
    }

    private static EmulatorAnswer google(EmulatorAnswer a) {
        return a.with("Metadata-Flavor", "Google").with("Server", "Metadata Server for VM");
    }
}
