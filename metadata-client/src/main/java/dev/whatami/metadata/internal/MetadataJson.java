package dev.whatami.metadata.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.jr.ob.JSON;
import com.fasterxml.jackson.jr.ob.JSONObjectException;
import java.io.IOException;
import java.util.Map;

/**
 * The metadata services' JSON documents (credentials, tokens, the identity document), read through jackson-jr:
 * objects become maps, arrays lists, numbers {@link Integer}, {@link Long}, {@link java.math.BigInteger} or
 * {@link Double}. Strict where a wrong document could mislead: one object and nothing after it, no repeated key, at
 * most {@link #MAX_BYTES} bytes and {@link #MAX_DEPTH} levels. Errors never quote the input, not even the token that
 * broke it, and carry no cause that would: the documents hold secrets.
 */
final class MetadataJson {
    /** The largest document read; the services' are a few KiB (an Azure token is the longest). */
    static final int MAX_BYTES = 64 * 1024;
    /** The deepest nesting read; the services' documents are two levels deep. */
    static final int MAX_DEPTH = 32;

    private static final JSON READER = JSON.builder(JsonFactory.builder()
                    .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
                    .build())
            .enable(JSON.Feature.FAIL_ON_DUPLICATE_MAP_KEYS)
            .build();

    private MetadataJson() {
    }

    /**
     * The document's top-level object.
     *
     * @throws IllegalArgumentException saying what is wrong and where, never with what text
     */
    static Map<String, Object> object(byte[] json) {
        if (json.length > MAX_BYTES) {
            throw new IllegalArgumentException("JSON of " + json.length + " bytes; at most " + MAX_BYTES);
        }
        Object value;
        boolean more;
        try (JsonParser p = READER.getStreamingFactory().createParser(json)) {
            value = READER.anyFrom(p);
            more = more(p);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(why(e));
        } catch (IOException e) {
            throw new IllegalArgumentException("JSON unreadable");
        }
        if (more || !(value instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("not a JSON object");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) map;
        return m;
    }

    /** Whether anything but white space follows the value, JSON or not. */
    private static boolean more(JsonParser p) throws IOException {
        try {
            return p.nextToken() != null;
        } catch (JsonProcessingException e) {
            return true;
        }
    }

    /** What broke, from the exception's type: jackson's own messages quote the offending text. */
    private static String why(JsonProcessingException e) {
        if (e instanceof StreamConstraintsException) {
            return e.getOriginalMessage().contains("nesting depth") ? "JSON nested too deeply" : "JSON value too long";
        }
        if (e instanceof JsonEOFException eof) {
            return eof.getTokenBeingDecoded() == JsonToken.VALUE_STRING ? "JSON string not closed" : "JSON ends early";
        }
        String where = e.getLocation() == null ? "" : " at offset " + e.getLocation().getByteOffset();
        if (e instanceof JSONObjectException && e.getOriginalMessage().startsWith("Duplicate key")) {
            return "JSON repeats a key" + where;
        }
        if (e instanceof JSONObjectException && e.getOriginalMessage().startsWith("No content")) {
            return "JSON ends early";
        }
        return "not a JSON value" + where;
    }
}
