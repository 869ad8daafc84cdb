package dev.whatami.emulator;

import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What the emulated service answers to one request, before any fault: status, header fields and body.
 *
 * @param status  the HTTP status
 * @param headers header fields in order (without {@code Content-Length}, which the transport sets)
 * @param body    the body bytes (not copied: do not change them)
 */
public record EmulatorAnswer(int status, List<Map.Entry<String, String>> headers, byte[] body) {
    public EmulatorAnswer {
        Objects.requireNonNull(headers, "headers");
        Objects.requireNonNull(body, "body");
        headers = List.copyOf(headers);
    }

    /** An answer with a UTF-8 text body and a content type. */
    public static EmulatorAnswer of(int status, String contentType, String body) {
        return of(status, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    /** An answer with a body and a content type. */
    public static EmulatorAnswer of(int status, String contentType, byte[] body) {
        return new EmulatorAnswer(status, List.of(header("Content-Type", contentType)), body);
    }

    /** This answer with one more header field. */
    public EmulatorAnswer with(String name, String value) {
        List<Map.Entry<String, String>> h = new ArrayList<>(headers);
        h.add(header(name, value));
        return new EmulatorAnswer(status, h, body);
    }

    /** The first value of header {@code name} (any case), if present. */
    public Optional<String> header(String name) {
        return headers.stream().filter(e -> e.getKey().equalsIgnoreCase(name)).map(Map.Entry::getValue).findFirst();
    }

    /** The body as UTF-8 text. */
    public String text() {
        return new String(body, StandardCharsets.UTF_8);
    }

    static Map.Entry<String, String> header(String name, String value) {
        return new AbstractMap.SimpleImmutableEntry<>(name, value);
    }

    @Override
    public String toString() {
        return "EmulatorAnswer[" + status + ", " + body.length + " bytes]";
    }
}
