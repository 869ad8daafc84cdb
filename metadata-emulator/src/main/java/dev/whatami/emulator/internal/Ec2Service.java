package dev.whatami.emulator.internal;

import dev.whatami.emulator.EmulatorAnswer;
import dev.whatami.emulator.EmulatorRequest;
import dev.whatami.emulator.IssuedCredentials;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * EC2's instance metadata service: IMDSv2 session tokens ({@code PUT /latest/api/token}, TTL 1–21600 s, refused
 * through proxies), user-data, the meta-data tree, the identity document and the instance role's credentials.
 */
public final class Ec2Service implements CloudService {
    public static final String TOKEN_PATH = "/latest/api/token";
    public static final String TOKEN_HEADER = "X-aws-ec2-metadata-token";
    public static final String TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds";
    static final int MAX_TTL = 21600;
    static final String AMI = "ami-0abcdef1234567890";
    static final String TYPE = "t3.micro";
    static final String ACCOUNT = "123456789012";

    private final Settings s;
    private final Secrets secrets;

    public Ec2Service(Settings settings, Secrets secrets) {
        this.s = settings;
        this.secrets = secrets;
    }

    @Override
    public boolean owns(String path) {
        return path.equals("/latest") || path.startsWith("/latest/");
    }

    private String zone() {
        return s.zone().orElse("us-east-1a");
    }

    private String region() {
        return s.region().orElseGet(() -> s.zone().map(z -> z.substring(0, z.length() - 1)).orElse("us-east-1"));
    }

    private String instanceId(EmulatorRequest r) {
        String id = s.instanceId().orElse("i-0123456789abcdef0");
        return s.instanceIdPerClient() ? id + "-" + r.remoteAddress().replaceAll("[^0-9A-Za-z]", "-") : id;
    }

    private String hostname() {
        return "ip-" + s.localIpv4().replace('.', '-') + ".ec2.internal";
    }

    @Override
    public EmulatorAnswer answer(EmulatorRequest r) {
        String path = r.path();
        if (path.equals(TOKEN_PATH)) {
            return token(r);
        }
        if (!r.method().equals("GET") && !r.method().equals("HEAD")) {
            return ec2(CloudService.htmlError(405)).with("Allow", "OPTIONS, GET, HEAD");
        }
        Optional<String> token = r.header(TOKEN_HEADER);
        Optional<Long> left = token.flatMap(secrets::sessionTokenSecondsLeft);
        if (token.isPresent() ? left.isEmpty() : s.imdsV2Required()) {
            return ec2(CloudService.htmlError(401));
        }
        EmulatorAnswer a = data(r, path);
        if (left.isPresent()) {
            a = a.with(TTL_HEADER, Long.toString(left.get()));
        }
        return a;
    }

    private EmulatorAnswer token(EmulatorRequest r) {
        if (!r.method().equals("PUT")) {
            return ec2(CloudService.htmlError(405)).with("Allow", "OPTIONS, PUT");
        }
        if (r.header("X-Forwarded-For").isPresent()) {
            return ec2(CloudService.htmlError(403)); // tokens are not handed through proxies
        }
        int ttl;
        try {
            ttl = Integer.parseInt(r.header(TTL_HEADER).orElse("").strip());
        } catch (NumberFormatException e) {
            ttl = -1;
        }
        if (ttl < 1 || ttl > MAX_TTL) {
            return ec2(CloudService.htmlError(400));
        }
        return ec2(EmulatorAnswer.of(200, "text/plain", secrets.newSessionToken(ttl)))
                .with(TTL_HEADER, Integer.toString(ttl));
    }

    private EmulatorAnswer data(EmulatorRequest r, String path) {
        String p = path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        Optional<IssuedCredentials> creds = secrets.credentials();
        String role = s.ec2Role().orElse(null);
        return switch (p) {
            case "/latest" -> text(CloudService.listing("dynamic", "meta-data") + (s.userData().isPresent()
                    ? "\nuser-data" : ""));
            case "/latest/user-data" -> s.userData().map(u -> ec2(EmulatorAnswer.of(200, "application/octet-stream",
                    u))).orElseGet(() -> ec2(CloudService.htmlError(404)));
            case "/latest/meta-data" -> text(metaDataListing(role != null));
            case "/latest/meta-data/ami-id" -> text(AMI);
            case "/latest/meta-data/hostname", "/latest/meta-data/local-hostname" -> text(hostname());
            case "/latest/meta-data/instance-id" -> text(instanceId(r));
            case "/latest/meta-data/instance-type" -> text(TYPE);
            case "/latest/meta-data/local-ipv4" -> text(s.localIpv4());
            case "/latest/meta-data/placement" -> text(CloudService.listing("availability-zone", "region"));
            case "/latest/meta-data/placement/availability-zone" -> text(zone());
            case "/latest/meta-data/placement/region" -> text(region());
            case "/latest/meta-data/iam" -> role == null ? notFound() : text(CloudService.listing("info",
                    "security-credentials/"));
            case "/latest/meta-data/iam/info" -> role == null ? notFound() : json(info(role));
            case "/latest/meta-data/iam/security-credentials" -> role == null ? notFound() : text(role);
            case "/latest/dynamic" -> text("instance-identity/");
            case "/latest/dynamic/instance-identity" -> text("document");
            case "/latest/dynamic/instance-identity/document" -> json(identityDocument());
            default -> role != null && p.equals("/latest/meta-data/iam/security-credentials/" + role)
                    ? json(credentials(creds.orElseThrow())) : notFound();
        };
    }

    private static String metaDataListing(boolean iam) {
        List<String> names = new ArrayList<>(List.of("ami-id", "hostname", "instance-id", "instance-type",
                "local-hostname", "local-ipv4", "placement/"));
        if (iam) {
            names.add(names.indexOf("instance-id"), "iam/");
        }
        return String.join("\n", names);
    }

    private Map<String, Object> identityDocument() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("accountId", ACCOUNT);
        doc.put("architecture", "x86_64");
        doc.put("availabilityZone", zone());
        doc.put("billingProducts", null);
        doc.put("devpayProductCodes", null);
        doc.put("marketplaceProductCodes", null);
        doc.put("imageId", AMI);
        doc.put("instanceId", s.instanceId().orElse("i-0123456789abcdef0")); // per-client ids: meta-data only
        doc.put("instanceType", TYPE);
        doc.put("kernelId", null);
        doc.put("pendingTime", "2026-01-01T00:00:00Z");
        doc.put("privateIp", s.localIpv4());
        doc.put("ramdiskId", null);
        doc.put("region", region());
        doc.put("version", "2017-09-30");
        return doc;
    }

    private Map<String, Object> info(String role) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("Code", "Success");
        doc.put("LastUpdated", stamp(s.clock().instant()));
        doc.put("InstanceProfileArn", "arn:aws:iam::" + ACCOUNT + ":instance-profile/" + role);
        doc.put("InstanceProfileId", "AIPAEXAMPLEPROFILEID0");
        return doc;
    }

    private Map<String, Object> credentials(IssuedCredentials c) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("Code", "Success");
        doc.put("LastUpdated", stamp(c.expiration().minus(s.credentialsLifetime())));
        doc.put("Type", "AWS-HMAC");
        doc.put("AccessKeyId", c.accessKeyId());
        doc.put("SecretAccessKey", c.secretAccessKey());
        doc.put("Token", c.sessionToken());
        doc.put("Expiration", stamp(c.expiration()));
        return doc;
    }

    static String stamp(Instant t) {
        return DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.SECONDS));
    }

    private static EmulatorAnswer text(String body) {
        return ec2(EmulatorAnswer.of(200, "text/plain", body));
    }

    private static EmulatorAnswer json(Map<String, Object> doc) {
        return ec2(EmulatorAnswer.of(200, "text/plain", JsonBodies.ec2(doc)));
    }

    private static EmulatorAnswer notFound() {
        return ec2(CloudService.htmlError(404));
    }

    private static EmulatorAnswer ec2(EmulatorAnswer a) {
        return a.with("Server", "EC2ws");
    }
}
