package dev.whatami.server.pages;

/**
 * HTML escaping for the pages the server writes: every value from a file name, request or report is untrusted.
 *
 * <p>Public for the script listings ({@code files}) and the status page ({@code reports}); not an API.
 */
public final class Html {
    private Html() {
    }

    /** {@code s} as HTML text or attribute value (quoted with {@code "}): {@code < > & " '} escaped. */
    public static String esc(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            String r = switch (s.charAt(i)) {
                case '<' -> "&lt;";
                case '>' -> "&gt;";
                case '&' -> "&amp;";
                case '"' -> "&quot;";
                case '\'' -> "&#39;";
                default -> null;
            };
            if (r != null && b == null) {
                b = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            if (b != null) {
                if (r != null) {
                    b.append(r);
                } else {
                    b.append(s.charAt(i));
                }
            }
        }
        return b == null ? s : b.toString();
    }
}
