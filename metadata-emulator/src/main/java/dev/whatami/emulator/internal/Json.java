package dev.whatami.emulator.internal;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** Just enough JSON writing for the emulated documents (this module depends on nothing but SLF4J). */
final class Json {
    private Json() {
    }

    /** Compact: {@code {"a":"b"}}. */
    static String compact(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, null, "");
        return sb.toString();
    }

    /** As EC2 prints its documents: two-space indent, {@code "key" : value}. */
    static String ec2(Map<String, ?> value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, "  ", "");
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, String indent, String current) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof String s) {
            string(sb, s);
        } else if (v instanceof Number || v instanceof Boolean) {
            sb.append(v);
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            String inner = indent == null ? "" : current + indent;
            Iterator<? extends Map.Entry<?, ?>> it = m.entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<?, ?> e = it.next();
                if (indent != null) {
                    sb.append('\n').append(inner);
                }
                string(sb, e.getKey().toString());
                sb.append(indent == null ? ":" : " : ");
                write(sb, e.getValue(), indent, inner);
                if (it.hasNext()) {
                    sb.append(',');
                }
            }
            if (indent != null && !m.isEmpty()) {
                sb.append('\n').append(current);
            }
            sb.append('}');
        } else if (v instanceof List<?> l) {
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) {
                    sb.append(indent == null ? "," : ", ");
                }
                write(sb, l.get(i), indent, current);
            }
            sb.append(']');
        } else {
            throw new IllegalArgumentException("not JSON: " + v.getClass());
        }
    }

    private static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
