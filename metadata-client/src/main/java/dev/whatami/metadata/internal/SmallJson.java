package dev.whatami.metadata.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Just enough JSON reading for the metadata services' documents (credentials, tokens, the identity document), so
 * that this module needs no JSON library on the boot path. Objects become maps, arrays lists, numbers
 * {@link Double} or {@link Long}. Errors never quote the input: it may hold secrets.
 */
final class SmallJson {
    private final String s;
    private int i;

    private SmallJson(String s) {
        this.s = s;
    }

    /** The top-level object. */
    static Map<String, Object> object(String text) {
        SmallJson p = new SmallJson(text);
        p.space();
        Object v = p.value(0);
        p.space();
        if (!(v instanceof Map) || p.i != p.s.length()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) v;
        return m;
    }

    private Object value(int depth) {
        if (depth > 32) {
            throw new IllegalArgumentException("JSON nested too deeply");
        }
        space();
        if (i >= s.length()) {
            throw new IllegalArgumentException("JSON ends early");
        }
        char c = s.charAt(i);
        switch (c) {
            case '{' -> {
                i++;
                Map<String, Object> m = new LinkedHashMap<>();
                space();
                if (peek('}')) {
                    return m;
                }
                do {
                    space();
                    String key = string();
                    space();
                    expect(':');
                    m.put(key, value(depth + 1));
                    space();
                } while (peek(','));
                expect('}');
                return m;
            }
            case '[' -> {
                i++;
                List<Object> l = new ArrayList<>();
                space();
                if (peek(']')) {
                    return l;
                }
                do {
                    l.add(value(depth + 1));
                    space();
                } while (peek(','));
                expect(']');
                return l;
            }
            case '"' -> {
                return string();
            }
            default -> {
                return literal();
            }
        }
    }

    private Object literal() {
        int start = i;
        while (i < s.length() && "{}[],: \t\r\n".indexOf(s.charAt(i)) < 0) {
            i++;
        }
        String t = s.substring(start, i);
        switch (t) {
            case "true":
                return Boolean.TRUE;
            case "false":
                return Boolean.FALSE;
            case "null":
                return null;
            default:
                try {
                    return t.contains(".") || t.contains("e") || t.contains("E") ? (Object) Double.parseDouble(t)
                            : (Object) Long.parseLong(t);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("not a JSON value at offset " + start);
                }
        }
    }

    private String string() {
        expect('"');
        StringBuilder sb = new StringBuilder();
        while (i < s.length()) {
            char c = s.charAt(i++);
            if (c == '"') {
                return sb.toString();
            }
            if (c == '\\') {
                if (i >= s.length()) {
                    break;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case 'r' -> sb.append('\r');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'u' -> {
                        if (i + 4 > s.length()) {
                            throw new IllegalArgumentException("bad JSON escape");
                        }
                        sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> sb.append(e);
                }
            } else {
                sb.append(c);
            }
        }
        throw new IllegalArgumentException("JSON string not closed");
    }

    private void space() {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
    }

    private boolean peek(char c) {
        if (i < s.length() && s.charAt(i) == c) {
            i++;
            return true;
        }
        return false;
    }

    private void expect(char c) {
        if (!peek(c)) {
            throw new IllegalArgumentException("JSON: expected '" + c + "' at offset " + i);
        }
    }
}
