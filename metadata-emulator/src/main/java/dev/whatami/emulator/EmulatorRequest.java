package dev.whatami.emulator;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One request as the emulator saw it: what a transport hands to {@link MetadataService#serve}, and what
 * {@link MetadataService#requests()} records.
 *
 * @param method        the HTTP method, upper case
 * @param path          the path, not decoded, without the query, e.g. {@code /latest/user-data}
 * @param query         the raw query without {@code ?}, or empty
 * @param headers       the header fields; names are compared ignoring case
 * @param remoteAddress the client's address, e.g. {@code 127.0.0.1}
 */
public record EmulatorRequest(String method, String path, Optional<String> query, Map<String, List<String>> headers,
                              String remoteAddress) {
    public EmulatorRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(query, "query");
        Objects.requireNonNull(remoteAddress, "remoteAddress");
        Map<String, List<String>> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        headers.forEach((k, v) -> copy.merge(k, List.copyOf(v), (a, b) -> {
            List<String> all = new java.util.ArrayList<>(a);
            all.addAll(b);
            return List.copyOf(all);
        }));
        headers = java.util.Collections.unmodifiableMap(copy);
        method = method.toUpperCase(Locale.ROOT);
    }

    /** The first value of header {@code name} (any case), if present. */
    public Optional<String> header(String name) {
        List<String> values = headers.get(name);
        return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
    }

    /** The value of query parameter {@code name} (percent-decoded), if present. */
    public Optional<String> queryParameter(String name) {
        if (query.isEmpty()) {
            return Optional.empty();
        }
        for (String pair : query.get().split("&")) {
            int eq = pair.indexOf('=');
            String key = eq < 0 ? pair : pair.substring(0, eq);
            if (decode(key).equals(name)) {
                return Optional.of(eq < 0 ? "" : decode(pair.substring(eq + 1)));
            }
        }
        return Optional.empty();
    }

    private static String decode(String s) {
        try {
            return java.net.URLDecoder.decode(s, java.nio.charset.StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s;
        }
    }

    @Override
    public String toString() {
        return method + " " + path + query.map(q -> "?" + q).orElse("");
    }
}
