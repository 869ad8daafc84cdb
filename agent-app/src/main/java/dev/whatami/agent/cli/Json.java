package dev.whatami.agent.cli;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;

/** JSON the command line prints that is not the status document ({@code check --json}); through jackson-jr. */
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
}
