package dev.whatami.fetch.internal.cloud;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * AWS Signature Version 4 for the one request the fetcher makes (a GET with an empty body), checked against AWS's
 * published SigV4 test suite ({@code SigV4Test}) and against S3Proxy and {@code curl --aws-sigv4}. Not the AWS SDK's
 * {@code http-auth-aws}: that is 11 jars and ~17 ms of a boot for what is ~100 lines here (see docs/dependencies.md).
 */
public final class SigV4 {
    static final String ALGORITHM = "AWS4-HMAC-SHA256";
    /** SHA-256 of the empty body. */
    public static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);

    private SigV4() {
    }

    /** {@code 20150830T123600Z}. */
    public static String amzDate(Instant t) {
        return AMZ_DATE.format(t);
    }

    /**
     * The Authorization header value.
     *
     * @param rawPath     the path exactly as sent, percent-encoded ({@link #encode(String, boolean)})
     * @param rawQuery    the query exactly as sent, or null
     * @param headers     the headers to sign, names in any case (host and x-amz-date among them)
     * @param payloadHash hex SHA-256 of the body (or {@code UNSIGNED-PAYLOAD})
     */
    public static String authorization(String method, String rawPath, String rawQuery, Map<String, String> headers,
                                       String payloadHash, String accessKeyId, String secretAccessKey, String region,
                                       String service, Instant now) {
        TreeMap<String, String> canonical = new TreeMap<>();
        headers.forEach((k, v) -> canonical.put(k.toLowerCase(Locale.ROOT), v.strip().replaceAll("\\s+", " ")));
        StringBuilder creq = new StringBuilder();
        creq.append(method).append('\n');
        creq.append(rawPath == null || rawPath.isEmpty() ? "/" : rawPath).append('\n');
        creq.append(canonicalQuery(rawQuery)).append('\n');
        canonical.forEach((k, v) -> creq.append(k).append(':').append(v).append('\n'));
        creq.append('\n');
        String signedHeaders = String.join(";", canonical.keySet());
        creq.append(signedHeaders).append('\n').append(payloadHash);
        String date = amzDate(now);
        String day = date.substring(0, 8);
        String scope = day + "/" + region + "/" + service + "/aws4_request";
        String toSign = ALGORITHM + "\n" + date + "\n" + scope + "\n" + hex(sha256(creq.toString()));
        byte[] key = hmac(("AWS4" + secretAccessKey).getBytes(StandardCharsets.UTF_8), day);
        key = hmac(key, region);
        key = hmac(key, service);
        key = hmac(key, "aws4_request");
        String signature = hex(hmac(key, toSign));
        return ALGORITHM + " Credential=" + accessKeyId + "/" + scope + ", SignedHeaders=" + signedHeaders
                + ", Signature=" + signature;
    }

    /** The query's parameters, each name and value encoded as AWS encodes them, sorted by name then value. */
    static String canonicalQuery(String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) {
            return "";
        }
        List<String[]> params = new ArrayList<>();
        for (String p : rawQuery.split("&")) {
            if (p.isEmpty()) {
                continue;
            }
            int eq = p.indexOf('=');
            String k = eq < 0 ? p : p.substring(0, eq);
            String v = eq < 0 ? "" : p.substring(eq + 1);
            params.add(new String[] {encode(decode(k), true), encode(decode(v), true)});
        }
        params.sort((a, b) -> a[0].equals(b[0]) ? a[1].compareTo(b[1]) : a[0].compareTo(b[0]));
        StringBuilder b = new StringBuilder();
        for (String[] p : params) {
            if (b.length() > 0) {
                b.append('&');
            }
            b.append(p[0]).append('=').append(p[1]);
        }
        return b.toString();
    }

    /**
     * AWS's URI encoding: every byte of the UTF-8 form but {@code A-Z a-z 0-9 - _ . ~} as {@code %XX} (upper case);
     * {@code /} kept unless {@code slash} is true.
     */
    public static String encode(String s, boolean slash) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (x & 0xff);
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
                    || c == '.' || c == '~' || (c == '/' && !slash)) {
                b.append(c);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit((c >> 4) & 0xf, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return b.toString();
    }

    /** Percent-decoding (not form decoding: {@code +} stays {@code +}). */
    public static String decode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); ) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length()) {
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi >= 0 && lo >= 0) {
                    out.write((hi << 4) | lo);
                    i += 3;
                    continue;
                }
            }
            int cp = s.codePointAt(i);
            out.writeBytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
            i += Character.charCount(cp);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot compute HmacSHA256", e);
        }
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
