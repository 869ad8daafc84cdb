package dev.whatami.emulator.internal;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.util.Map;

/** The emulated JSON documents, through jackson-jr; a {@code null} value is written, as the real services do. */
final class JsonBodies {
    private static final JSON COMPACT = JSON.std.with(JSON.Feature.WRITE_NULL_PROPERTIES);
    /** Jackson's default pretty printer is what EC2 answers with: {@code "key" : value}, {@code [ "a", "b" ]}. */
    private static final JSON EC2 = COMPACT.with(JSON.Feature.PRETTY_PRINT_OUTPUT);

    private JsonBodies() {
    }

    /** Compact, as GCE, Azure and the smaller clouds send it: {@code {"a":"b"}}. */
    static String compact(Object value) {
        return write(COMPACT, value);
    }

    /** As EC2 prints its documents: two-space indent, {@code "key" : value}. */
    static String ec2(Map<String, ?> value) {
        return write(EC2, value);
    }

    private static String write(JSON json, Object value) {
        try {
            return json.asString(value);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the emulated document: " + e.getMessage(), e);
        }
    }
}
