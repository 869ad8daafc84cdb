package dev.whatami.fetch.internal;

import dev.whatami.metadata.AwsCredentials;
import dev.whatami.fetch.FetchFailure;
import dev.whatami.fetch.S3Access;
import dev.whatami.fetch.internal.cloud.SigV4;
import dev.whatami.userdata.Redact;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code s3://bucket/key[?versionId=...]}: a SigV4-signed GET of the object, virtual-hosted or path-style, in the
 * bucket's own region once S3 has said which ({@code x-amz-bucket-region}). Anonymous when there are no credentials.
 */
final class S3Origin implements Origin {
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    private static final Pattern XML_CODE = Pattern.compile("<Code>([^<]{1,100})</Code>");
    private static final Pattern XML_MESSAGE = Pattern.compile("<Message>([^<]{1,300})</Message>");

    private final S3Access access;
    private final Clock clock;
    /** Buckets whose region S3 told us, shared by every fetch of this fetcher. */
    private final Map<String, String> regions = new ConcurrentHashMap<>();

    S3Origin(S3Access access, Clock clock) {
        this.access = access;
        this.clock = clock;
    }

    private static String bucket(URI url) throws AttemptFailed {
        String bucket = url.getHost() == null ? url.getRawAuthority() : url.getHost();
        if (bucket == null || !BUCKET.matcher(bucket).matches()) {
            throw new AttemptFailed(FetchFailure.CLIENT_ERROR, "\"" + bucket + "\" is not an S3 bucket name "
                    + "(3-63 characters: lower-case letters, digits, dots and hyphens)", null);
        }
        return bucket;
    }

    private String region(String bucket) {
        return regions.getOrDefault(bucket, access.region());
    }

    @Override
    public URI requestUrl(URI url) throws AttemptFailed {
        String bucket = bucket(url);
        String rawKey = url.getRawPath() == null || url.getRawPath().length() <= 1 ? "" : url.getRawPath().substring(1);
        if (rawKey.isEmpty()) {
            throw new AttemptFailed(FetchFailure.CLIENT_ERROR, "an s3:// URL names an object: s3://" + bucket
                    + "/path/to/script", null);
        }
        String key = SigV4.encode(SigV4.decode(rawKey), false);
        String query = "";
        if (url.getRawQuery() != null) {
            for (String p : url.getRawQuery().split("&")) {
                if (p.startsWith("versionId=")) {
                    query = "?versionId=" + SigV4.encode(SigV4.decode(p.substring(10)), true);
                } else if (!p.isEmpty()) {
                    throw new AttemptFailed(FetchFailure.CLIENT_ERROR, "an s3:// URL takes no query but versionId=",
                            null);
                }
            }
        }
        String region = region(bucket);
        String base;
        if (access.endpoint().isPresent()) {
            URI e = access.endpoint().get();
            String path = e.getRawPath() == null ? "" : e.getRawPath().replaceAll("/+$", "");
            String port = e.getPort() < 0 ? "" : ":" + e.getPort();
            base = access.pathStyle(bucket) ? e.getScheme() + "://" + e.getRawAuthority() + path + "/" + bucket
                    : e.getScheme() + "://" + bucket + "." + e.getHost() + port + path;
        } else {
            base = access.pathStyle(bucket) ? "https://s3." + region + ".amazonaws.com/" + bucket
                    : "https://" + bucket + ".s3." + region + ".amazonaws.com";
        }
        return URI.create(base + "/" + key + query);
    }

    @Override
    public boolean derivesSignature(URI url) {
        return true; // s3://bucket/key?versionId=...: the signature is s3://bucket/key.sig
    }

    @Override
    public URI derivedSignature(URI url) {
        String raw = url.toString();
        int q = raw.indexOf('?');
        return URI.create((q < 0 ? raw : raw.substring(0, q)) + ".sig"); // the signature of any version: key.sig
    }

    @Override
    public Map<String, String> authorize(URI hop) throws AttemptFailed {
        Optional<AwsCredentials> credentials;
        try {
            credentials = access.credentials().get();
        } catch (RuntimeException e) {
            throw new AttemptFailed(FetchFailure.UNREACHABLE, "no S3 credentials: " + Failures.describe(e, hop), e);
        }
        if (credentials.isEmpty()) {
            return Map.of(); // no identity: anonymous, for public buckets
        }
        AwsCredentials c = credentials.get();
        String host = hop.getRawAuthority();
        String bucketRegion = regionFor(hop);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("host", host);
        headers.put("x-amz-content-sha256", SigV4.EMPTY_SHA256);
        headers.put("x-amz-date", SigV4.amzDate(clock.instant()));
        c.sessionToken().ifPresent(t -> headers.put("x-amz-security-token", t));
        String auth = SigV4.authorization("GET", hop.getRawPath(), hop.getRawQuery(), headers, SigV4.EMPTY_SHA256,
                c.accessKeyId(), c.secretAccessKey(), bucketRegion, "s3", clock.instant());
        Map<String, String> out = new LinkedHashMap<>(headers);
        out.remove("host"); // HttpClient sends it from the URL, byte for byte what was signed
        out.put("Authorization", auth);
        return out;
    }

    /** The region to sign a request to {@code hop} for. */
    private String regionFor(URI hop) {
        String host = hop.getHost() == null ? "" : hop.getHost().toLowerCase(Locale.ROOT);
        Matcher m = Pattern.compile("(?:^|\\.)s3[.-]([a-z0-9-]+)\\.amazonaws\\.com$").matcher(host);
        if (m.find()) {
            return m.group(1);
        }
        for (Map.Entry<String, String> e : regions.entrySet()) {
            if (host.startsWith(e.getKey() + ".") || String.valueOf(hop.getRawPath()).startsWith("/" + e.getKey()
                    + "/")) {
                return e.getValue();
            }
        }
        return access.region();
    }

    @Override
    public boolean retryOnce(Exchange.Response r) {
        Optional<String> told = r.header("x-amz-bucket-region");
        if (told.isEmpty() || !told.get().matches("[a-z0-9-]+")) {
            return false;
        }
        String bucket = bucketOf(r.url);
        if (bucket == null || told.get().equals(region(bucket))) {
            return false;
        }
        regions.put(bucket, told.get());
        return true;
    }

    private String bucketOf(URI requestUrl) {
        String host = requestUrl.getHost() == null ? "" : requestUrl.getHost();
        int s3 = host.indexOf(".s3.");
        if (s3 > 0) {
            return host.substring(0, s3);
        }
        if (access.endpoint().isPresent() && !host.equals(access.endpoint().get().getHost())) {
            return host.substring(0, host.length() - access.endpoint().get().getHost().length() - 1);
        }
        String path = requestUrl.getRawPath() == null ? "" : requestUrl.getRawPath();
        String[] parts = path.split("/");
        return parts.length > 1 ? parts[1] : null;
    }

    @Override
    public Optional<String> explain(Exchange.Response r) {
        try {
            InputStream body = r.body();
            String text = new String(body.readNBytes(8192), StandardCharsets.UTF_8);
            Matcher code = XML_CODE.matcher(text);
            if (!code.find()) {
                return Optional.empty();
            }
            Matcher message = XML_MESSAGE.matcher(text);
            String m = message.find() ? ": " + message.group(1) : "";
            return Optional.of("S3 says " + code.group(1) + m);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    @Override
    public String toString() {
        return "S3Origin[" + access + "]";
    }

    static String redacted(URI url) {
        return Redact.url(url);
    }
}
