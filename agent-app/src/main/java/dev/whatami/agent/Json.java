package dev.whatami.agent;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** Every JSON the agent writes goes through jackson-jr, never by hand. */
final class Json {
    private static final JSON PRETTY = JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT)
            .without(JSON.Feature.WRITE_NULL_PROPERTIES);

    private Json() {
    }

    static String pretty(Object value) {
        try {
            return PRETTY.asString(value);
        } catch (IOException e) {
            throw new IllegalStateException("cannot render JSON: " + e.getMessage(), e);
        }
    }

    static void writeAtomically(Path file, Map<String, ?> value) throws IOException {
        dev.whatami.status.AtomicFiles.write(file, (pretty(value) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    static Map<String, Object> read(Path file) throws IOException {
        return JSON.std.mapFrom(java.nio.file.Files.readAllBytes(file));
    }
}
