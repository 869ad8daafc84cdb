package dev.whatami.fetch.internal;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.whatami.fetch.MinisignKey;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The two JSON documents of a signed manifest, read strictly: every field known and of its type, no duplicate keys.
 * The keys document ({@code keys.json}, signed by the root key) lists the signing keys with their validity and the
 * revoked key ids; the manifest ({@code manifest.json}, signed by a listed key) maps file names to SHA-256 digests.
 * What the fields mean is in docs/manifest.md.
 */
public final class ManifestDocs {
    public static final String KEYS_TYPE = "whatami-keys/1";
    public static final String MANIFEST_TYPE = "whatami-manifest/1";
    private static final JSON READER = JSON.std.with(JSON.Feature.FAIL_ON_DUPLICATE_MAP_KEYS);
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern KEY_ID = Pattern.compile("[0-9A-F]{16}");

    private ManifestDocs() {
    }

    /** The document is not what its type says: what is wrong. */
    public static final class Malformed extends Exception {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * A signing key and when it may sign.
     *
     * @param notBefore manifests are accepted from it only from then on (on this machine's clock)
     * @param expires   and only until then
     */
    public record SigningKey(MinisignKey key, Optional<Instant> notBefore, Instant expires) {
    }

    /**
     * {@code keys.json}.
     *
     * @param sha256 of the document's bytes, to tell two documents with one version apart
     */
    public record Keys(long version, Instant expires, List<SigningKey> keys, Set<String> revoked, String sha256) {
        /** The listed key with that id, as minisign prints it. */
        public Optional<SigningKey> find(String id) {
            for (SigningKey k : keys) {
                if (k.key().id().equals(id)) {
                    return Optional.of(k);
                }
            }
            return Optional.empty();
        }
    }

    /**
     * {@code manifest.json}.
     *
     * @param name    the set of scripts it describes; versions count per name
     * @param origins where it may be used: the URLs of the directories it may be fetched from; empty: anywhere
     * @param files   file name to lower-case hex SHA-256
     * @param sha256  of the document's bytes
     */
    public record Manifest(String name, long version, Instant expires, List<String> origins, Map<String, String> files,
                           String sha256) {
    }

    /** Reads {@code keys.json}. */
    public static Keys keys(byte[] json) throws Malformed {
        Map<String, Object> m = object(json, "the keys document");
        known(m, "the keys document", Set.of("type", "version", "expires", "keys", "revoked"));
        type(m, KEYS_TYPE, "the keys document");
        List<SigningKey> keys = new ArrayList<>();
        for (Object o : list(m, "keys", "the keys document")) {
            if (!(o instanceof Map<?, ?> k)) {
                throw new Malformed("the keys document: each of \"keys\" is an object {\"key\": ..., \"expires\": "
                        + "...}");
            }
            @SuppressWarnings("unchecked") Map<String, Object> key = (Map<String, Object>) k;
            known(key, "a key in the keys document", Set.of("key", "notBefore", "expires"));
            MinisignKey parsed;
            try {
                parsed = MinisignKey.parse(string(key, "key", "a key in the keys document"), "a key in the keys "
                        + "document");
            } catch (IllegalArgumentException e) {
                throw new Malformed(e.getMessage());
            }
            Optional<Instant> notBefore = key.containsKey("notBefore") ? Optional.of(instant(key, "notBefore",
                    "key " + parsed.id())) : Optional.empty();
            keys.add(new SigningKey(parsed, notBefore, instant(key, "expires", "key " + parsed.id())));
        }
        Set<String> revoked = new LinkedHashSet<>();
        if (m.containsKey("revoked")) {
            for (Object o : list(m, "revoked", "the keys document")) {
                if (!(o instanceof String id) || !KEY_ID.matcher(id).matches()) {
                    throw new Malformed("the keys document: \"revoked\" lists key ids, 16 upper-case hex digits as "
                            + "minisign prints them, got " + shown(o));
                }
                revoked.add(id);
            }
        }
        return new Keys(number(m, "version", "the keys document"), instant(m, "expires", "the keys document"),
                List.copyOf(keys), Set.copyOf(revoked), sha256(json));
    }

    /** Reads {@code manifest.json}. */
    public static Manifest manifest(byte[] json) throws Malformed {
        String what = "the manifest";
        Map<String, Object> m = object(json, what);
        known(m, what, Set.of("type", "name", "version", "expires", "origins", "files"));
        type(m, MANIFEST_TYPE, what);
        String name = string(m, "name", what);
        List<String> origins = new ArrayList<>();
        if (m.containsKey("origins")) {
            for (Object o : list(m, "origins", what)) {
                if (!(o instanceof String s) || !s.contains("://") || !s.endsWith("/")) {
                    throw new Malformed(what + ": \"origins\" lists directory URLs ending in /, got " + shown(o));
                }
                origins.add(s);
            }
        }
        if (!(m.get("files") instanceof Map<?, ?> files)) {
            throw new Malformed(what + " has no \"files\" object of name: {\"sha256\": hex}");
        }
        Map<String, String> digests = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : files.entrySet()) {
            String file = (String) e.getKey();
            if (file.isEmpty() || file.contains("/") || file.equals(".") || file.equals("..")) {
                throw new Malformed(what + ": \"" + shown(file) + "\" is not a file name");
            }
            if (!(e.getValue() instanceof Map<?, ?> entry) || entry.size() != 1
                    || !(entry.get("sha256") instanceof String hex) || !HEX64.matcher(hex).matches()) {
                throw new Malformed(what + ": the entry for " + shown(file) + " is not {\"sha256\": \"<64 lower-case "
                        + "hex digits>\"}");
            }
            digests.put(file, hex);
        }
        return new Manifest(name, number(m, "version", what), instant(m, "expires", what), List.copyOf(origins),
                Map.copyOf(digests), sha256(json));
    }

    private static Map<String, Object> object(byte[] json, String what) throws Malformed {
        try {
            Object o = READER.anyFrom(json);
            if (!(o instanceof Map<?, ?>)) {
                throw new Malformed(what + " is not a JSON object");
            }
            @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) o;
            return m;
        } catch (IOException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst()
                    .orElse("");
            throw new Malformed(what + " is not valid JSON: " + shown(why));
        }
    }

    private static void known(Map<String, Object> m, String what, Set<String> fields) throws Malformed {
        for (String k : m.keySet()) {
            if (!fields.contains(k)) {
                throw new Malformed(what + " has a field this agent does not know: \"" + shown(k) + "\"");
            }
        }
    }

    private static void type(Map<String, Object> m, String type, String what) throws Malformed {
        if (!type.equals(m.get("type"))) {
            throw new Malformed(what + " is not of \"type\": \"" + type + "\" (got " + shown(m.get("type")) + ")");
        }
    }

    private static String string(Map<String, Object> m, String field, String what) throws Malformed {
        if (!(m.get(field) instanceof String s) || s.isEmpty()) {
            throw new Malformed(what + " has no \"" + field + "\" string");
        }
        return s;
    }

    private static List<?> list(Map<String, Object> m, String field, String what) throws Malformed {
        if (!(m.get(field) instanceof List<?> l)) {
            throw new Malformed(what + " has no \"" + field + "\" list");
        }
        return l;
    }

    private static long number(Map<String, Object> m, String field, String what) throws Malformed {
        Object o = m.get(field);
        if (!(o instanceof Integer || o instanceof Long) || ((Number) o).longValue() < 1) {
            throw new Malformed(what + " has no \"" + field + "\": a whole number from 1");
        }
        return ((Number) o).longValue();
    }

    private static Instant instant(Map<String, Object> m, String field, String what) throws Malformed {
        if (!(m.get(field) instanceof String s)) {
            throw new Malformed(what + " has no \"" + field + "\" time (e.g. \"2027-01-31T00:00:00Z\")");
        }
        Instant t = utc(s);
        if (t == null) {
            throw new Malformed(what + ": \"" + field + "\" is not a UTC time like \"2027-01-31T00:00:00Z\": "
                    + shown(s));
        }
        return t;
    }

    /**
     * {@code YYYY-MM-DDTHH:MM:SSZ}, or null. By hand: {@code Instant.parse} loads java.time's formatter, ~10 ms of a
     * cold boot.
     */
    static Instant utc(String s) {
        if (s.length() != 20 || s.charAt(4) != '-' || s.charAt(7) != '-' || s.charAt(10) != 'T' || s.charAt(13) != ':'
                || s.charAt(16) != ':' || s.charAt(19) != 'Z') {
            return null;
        }
        int[] f = new int[6];
        int[] at = {0, 5, 8, 11, 14, 17};
        int[] len = {4, 2, 2, 2, 2, 2};
        for (int i = 0; i < 6; i++) {
            for (int j = at[i]; j < at[i] + len[i]; j++) {
                char c = s.charAt(j);
                if (c < '0' || c > '9') {
                    return null;
                }
                f[i] = f[i] * 10 + (c - '0');
            }
        }
        try {
            return java.time.LocalDateTime.of(f[0], f[1], f[2], f[3], f[4], f[5])
                    .toInstant(java.time.ZoneOffset.UTC);
        } catch (java.time.DateTimeException e) {
            return null;
        }
    }

    /** A value from the document, cut to a readable length. */
    private static String shown(Object o) {
        String s = String.valueOf(o);
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }

    /** Lower-case hex SHA-256. */
    public static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
