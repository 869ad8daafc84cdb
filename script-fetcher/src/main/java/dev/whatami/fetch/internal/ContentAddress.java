package dev.whatami.fetch.internal;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The content-addressed URL of one version of a script: its http(s) URL with {@code sha256=<lower-case hex>} in the
 * query. whatami-server answers it only while the file is that version, marked immutable, so a cache or CDN in front
 * keeps each version for good; a plain static server ignores the query. The address is a cache key, never a reason
 * to believe the bytes: they are verified as without it.
 */
final class ContentAddress {
    static final String PARAMETER = "sha256";

    private ContentAddress() {
    }

    /**
     * Whether {@code url} is asked for by its content address when its digest is known: plain http and https only
     * (cloud origins sign or map their requests, and a file is read, not asked for), and only a URL without a query of
     * its own — that query is most often a presigned URL's or a token's, whose signature covers it and would not hold
     * with another parameter (and whatami-server takes {@code ?sha256=} as the whole query).
     */
    static boolean applies(URI url) {
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        return (scheme.equals("http") || scheme.equals("https")) && url.getRawQuery() == null
                && url.getRawAuthority() != null;
    }

    /** {@code url} asking for the version with {@code sha256Hex}. */
    static URI of(URI url, String sha256Hex) {
        return withParameter(url, PARAMETER, sha256Hex.toLowerCase(Locale.ROOT));
    }

    /**
     * {@code url} with {@code name=value} added at the end of its query (kept as it is, raw), both encoded as a form
     * parameter; scheme, authority, path and fragment kept raw, so nothing already encoded in them changes.
     */
    static URI withParameter(URI url, String name, String value) {
        if (url.isOpaque()) {
            throw new IllegalArgumentException("not a hierarchical URL: " + url.getScheme() + ":...");
        }
        String parameter = URLEncoder.encode(name, StandardCharsets.UTF_8) + "="
                + URLEncoder.encode(value, StandardCharsets.UTF_8);
        StringBuilder b = new StringBuilder();
        if (url.getScheme() != null) {
            b.append(url.getScheme()).append(':');
        }
        if (url.getRawAuthority() != null) {
            b.append("//").append(url.getRawAuthority());
        }
        String path = url.getRawPath();
        b.append(path == null || path.isEmpty() ? (url.getRawAuthority() != null ? "/" : "") : path);
        String query = url.getRawQuery();
        b.append('?');
        if (query != null && !query.isEmpty()) {
            b.append(query).append(query.endsWith("&") ? "" : "&");
        }
        b.append(parameter);
        if (url.getRawFragment() != null) {
            b.append('#').append(url.getRawFragment());
        }
        try {
            return new URI(b.toString());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("cannot add a query parameter to this URL", e);
        }
    }
}
