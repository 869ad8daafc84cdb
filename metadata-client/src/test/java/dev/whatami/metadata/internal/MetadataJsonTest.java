package dev.whatami.metadata.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetadataJsonTest {
    private static Map<String, Object> object(String json) {
        return MetadataJson.object(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void readsTheDocumentsTheServicesSend() {
        Map<String, Object> doc = object("{\n  \"Code\" : \"Success\",\n  \"n\" : 3599, \"d\" : 1.5,\n"
                + "  \"big\" : 17000000000, \"none\" : null, \"yes\" : true, \"codes\" : [\"a\", {\"b\": []}],\n"
                + "  \"esc\" : \"a\\\"b\\\\c\\n\\u00e9/\"\n}");
        assertThat(doc).containsEntry("Code", "Success").containsEntry("n", 3599).containsEntry("d", 1.5)
                .containsEntry("big", 17_000_000_000L).containsEntry("none", null).containsEntry("yes", true)
                .containsEntry("codes", List.of("a", Map.of("b", List.of()))).containsEntry("esc", "a\"b\\c\né/");
        assertThat(doc.keySet()).containsExactly("Code", "n", "d", "big", "none", "yes", "codes", "esc");
    }

    @Test
    void refusesWhatIsNotAnObject_withoutQuotingIt() {
        assertThatThrownBy(() -> object("<html>secret</html>")).hasMessage("not a JSON value at offset 0");
        assertThatThrownBy(() -> object("[1]")).hasMessage("not a JSON object");
        assertThatThrownBy(() -> object("")).hasMessage("JSON ends early");
        assertThatThrownBy(() -> object("{\"a\": 1")).hasMessage("JSON ends early");
        assertThatThrownBy(() -> object("{\"a\": \"unclosed}")).hasMessage("JSON string not closed");
        assertThatThrownBy(() -> object("{\"a\": 1} trailing")).hasMessage("not a JSON object");
        assertThatThrownBy(() -> object("{\"a\": 1} {\"b\": 2}")).hasMessage("not a JSON object");
        assertThatThrownBy(() -> object("[".repeat(100))).hasMessage("JSON nested too deeply");
    }

    @Test
    void aBrokenSecret_isNeverInTheMessage_norInACause() {
        // jackson's own message would be "Unrecognized token 'AKIAsecret'..."
        for (String json : List.of("{\"Token\": AKIAsecret}", "{\"Token\": \"AKIAsecret\\q\"}",
                "{\"Token\": \"AKIAsecret\", \"Token\": \"AKIAsecret\"}", "{\"Token\": 1AKIAsecret}")) {
            assertThatThrownBy(() -> object(json)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageNotContaining("AKIA").hasMessageNotContaining("secret").hasNoCause();
        }
        assertThatThrownBy(() -> object("{\"Token\": AKIAsecret}")).hasMessage("not a JSON value at offset 21");
    }

    @Test
    void aRepeatedKey_isRefused_notLastOneWins() {
        assertThatThrownBy(() -> object("{\"Expiration\": \"2026-01-01T00:00:00Z\", \"Expiration\": \"2099-01-01"
                + "T00:00:00Z\"}")).hasMessage("JSON repeats a key at offset 53");
    }

    @Test
    void sizeAndDepth_areBounded() {
        String deep = "{\"a\":".repeat(MetadataJson.MAX_DEPTH - 1) + "1" + "}".repeat(MetadataJson.MAX_DEPTH - 1);
        assertThat(object(deep)).containsKey("a");
        String tooDeep = "{\"a\":".repeat(MetadataJson.MAX_DEPTH + 1) + "1" + "}".repeat(MetadataJson.MAX_DEPTH + 1);
        assertThatThrownBy(() -> object(tooDeep)).hasMessage("JSON nested too deeply");
        String padded = "{\"a\": \"" + "x".repeat(MetadataJson.MAX_BYTES) + "\"}";
        assertThatThrownBy(() -> object(padded)).hasMessage("JSON of 65545 bytes; at most 65536");
    }
}
