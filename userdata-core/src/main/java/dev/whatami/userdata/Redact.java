package dev.whatami.userdata;

import java.net.URI;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * What user-data may hold that must never be shown: {@code env.*} values, credentials in URLs ({@code user:password@},
 * presigned query strings, SAS tokens). Every message, log line, status file, report and page shows URLs through
 * {@link #url(URI)} and free text that may contain a secret through {@link #text(String, Collection)}.
 * Stateless and thread-safe.
 */
public final class Redact {
    /** What replaces a secret. */
    public static final String MARK = "***";

    private Redact() {
    }

    /**
     * The URL as it may be shown: userinfo becomes {@code ***@}, a query becomes {@code ?***}, a fragment is dropped.
     * Scheme, host, port and path are kept, so a person can still tell which file was meant, e.g.
     * {@code https://bucket.s3.amazonaws.com/roles/collector.pl?***}.
     */
    public static String url(URI url) {
        if (url == null) {
            return "";
        }
        if (url.isOpaque()) {
            String scheme = url.getScheme();
            return scheme == null ? MARK : scheme + ":" + MARK;
        }
        StringBuilder b = new StringBuilder();
        if (url.getScheme() != null) {
            b.append(url.getScheme()).append(':');
        }
        if (url.getRawAuthority() != null) {
            b.append("//");
            if (url.getRawUserInfo() != null) {
                b.append(MARK).append('@');
            }
            String host = url.getHost();
            if (host != null) {
                b.append(host);
                if (url.getPort() >= 0) {
                    b.append(':').append(url.getPort());
                }
            } else {
                // a registry-based authority java.net.URI could not split: show it only if it holds no userinfo
                String authority = url.getRawAuthority();
                b.append(authority.contains("@") ? MARK + authority.substring(authority.lastIndexOf('@'))
                        : authority);
            }
        } else if (url.getScheme() != null && url.toString().startsWith(url.getScheme() + "://")) {
            b.append("//"); // file:///path: an empty authority
        }
        if (url.getRawPath() != null) {
            b.append(url.getRawPath());
        }
        if (url.getRawQuery() != null) {
            b.append('?').append(MARK);
        }
        return b.toString();
    }

    /** {@link #url(URI)} for text that should be a URL; text that is not one is shown only as far as its scheme. */
    public static String url(String text) {
        if (text == null) {
            return "";
        }
        try {
            return url(new URI(text));
        } catch (java.net.URISyntaxException e) {
            int colon = text.indexOf(':');
            boolean scheme = colon > 0 && text.substring(0, colon).matches("[A-Za-z][A-Za-z0-9+.-]*");
            return scheme ? text.substring(0, colon) + ":" + MARK : MARK;
        }
    }

    /**
     * {@code text} with every occurrence of every non-empty secret replaced by {@link #MARK}. Longer secrets are
     * replaced first, so a secret that contains another is hidden whole.
     */
    public static String text(String text, Collection<String> secrets) {
        if (text == null || secrets.isEmpty()) {
            return text;
        }
        List<String> bySize = secrets.stream().filter(s -> s != null && !s.isEmpty()).distinct()
                .sorted(Comparator.comparingInt(String::length).reversed()).toList();
        String out = text;
        for (String s : bySize) {
            out = out.replace(s, MARK);
        }
        return out;
    }
}
