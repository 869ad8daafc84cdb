package dev.whatami.userdata.internal;

import dev.whatami.userdata.Redact;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * How user-data text may appear in a problem or warning — the one redaction rule of the parser. User-data holds
 * secrets ({@code env.*} values, tokens in misspelled keys, credentials in URLs), and problems reach logs, status
 * files, reports and public pages. So whenever the parser shows a word of user-data:
 * <ul>
 *   <li>a {@code key=value} word shows as {@code key=***}, unless the key is one whose value is never secret
 *       ({@code sha256 sha512 frequency retries timeout as}), or a URL key ({@code mirror report sig}) whose value is
 *       shown by the rules below;</li>
 *   <li>a URL shows through {@link Redact#url(URI)} (no userinfo, no query, no fragment), also when it does not
 *       parse;</li>
 *   <li>any other word with an {@code @} shows as {@code ***@<what follows the last @>}.</li>
 * </ul>
 * A line is shown word by word. Stateless.
 */
public final class Shown {
    private static final Set<String> PLAIN_KEYS = Set.of("sha256", "sha512", "frequency", "retries", "timeout", "as");
    private static final Set<String> URL_KEYS = Set.of("mirror", "report", "sig");
    private static final Pattern BASE64 = Pattern.compile("[A-Za-z0-9+/_-]+={0,2}");

    private Shown() {
    }

    /** One word of user-data as it may be shown; control characters as {@code \\uXXXX}. */
    public static String word(String word) {
        return shorten(escapeControls(redact(word)), UserDataLimits.MAX_SHOWN_WORD);
    }

    /**
     * A key or a value the parser quotes as it is (never secret, e.g. an unknown key's name or a frequency), cut to
     * a readable length, control characters escaped.
     */
    public static String clip(String s) {
        return shorten(escapeControls(s), UserDataLimits.MAX_SHOWN_WORD);
    }

    /** {@code s} whole when short enough, else its start and how long it was (a problem is never megabytes). */
    private static String shorten(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "…(" + s.length() + " characters)";
    }

    private static String escapeControls(String s) {
        if (s.chars().noneMatch(Character::isISOControl)) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length() + 8);
        s.chars().forEach(c -> b.append(Character.isISOControl(c) ? String.format("\\u%04x", c) : String.valueOf((char) c)));
        return b.toString();
    }

    private static String redact(String word) {
        if (isUrl(word)) {
            return url(word);
        }
        int eq = word.indexOf('=');
        if (eq >= 0) {
            String key = word.substring(0, eq);
            String value = word.substring(eq + 1);
            String lower = key.toLowerCase(Locale.ROOT);
            if (PLAIN_KEYS.contains(lower)) {
                return word;
            }
            if (URL_KEYS.contains(lower)) {
                return key + "=" + (BASE64.matcher(value).matches() && !value.contains("@") ? value : word(value));
            }
            return atSign(key) + "=" + Redact.MARK;
        }
        return atSign(word);
    }

    /** A line (or any run of words separated by spaces and tabs) as it may be shown, one space between words. */
    public static String line(String line) {
        StringBuilder b = new StringBuilder();
        for (String w : line.strip().split("[ \t]+")) {
            if (b.length() > UserDataLimits.MAX_SHOWN_LINE) {
                return b.substring(0, UserDataLimits.MAX_SHOWN_LINE) + "…";
            }
            if (!w.isEmpty()) {
                b.append(b.length() == 0 ? "" : " ").append(word(w));
            }
        }
        return b.length() > UserDataLimits.MAX_SHOWN_LINE ? b.substring(0, UserDataLimits.MAX_SHOWN_LINE) + "…"
                : b.toString();
    }

    /** Whether the parser reads {@code word} as a URL. */
    public static boolean isUrl(String word) {
        return word.contains("://") || word.toLowerCase(Locale.ROOT).startsWith("file:");
    }

    /**
     * A URL as it may be shown: {@link Redact#url(URI)} when it parses; when it does not, the same cuts made on the
     * text (userinfo, query and fragment removed), so a person still sees which URL is meant.
     */
    public static String url(String text) {
        try {
            return Redact.url(new URI(text));
        } catch (URISyntaxException e) {
            String s = text;
            int hash = s.indexOf('#');
            if (hash >= 0) {
                s = s.substring(0, hash);
            }
            int query = s.indexOf('?');
            if (query >= 0) {
                s = s.substring(0, query) + "?" + Redact.MARK;
            }
            int authority = s.indexOf("//");
            if (authority >= 0) {
                int end = authority + 2;
                while (end < s.length() && s.charAt(end) != '/' && s.charAt(end) != '?') {
                    end++;
                }
                String auth = s.substring(authority + 2, end);
                if (auth.contains("@")) {
                    s = s.substring(0, authority + 2) + Redact.MARK + auth.substring(auth.lastIndexOf('@'))
                            + s.substring(end);
                }
            } else if (s.contains("@")) {
                s = atSign(s);
            }
            return s;
        }
    }

    private static String atSign(String word) {
        int at = word.lastIndexOf('@');
        return at < 0 ? word : Redact.MARK + word.substring(at);
    }
}
