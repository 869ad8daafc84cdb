package dev.whatami.metadata.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SmallJsonTest {
    @Test
    void readsTheDocumentsTheServicesSend() {
        Map<String, Object> doc = SmallJson.object("{\n  \"Code\" : \"Success\",\n  \"n\" : 3599, \"d\" : 1.5,\n"
                + "  \"none\" : null, \"yes\" : true, \"codes\" : [\"a\", {\"b\": []}],\n"
                + "  \"esc\" : \"a\\\"b\\\\c\\n\\u00e9/\"\n}");
        assertThat(doc).containsEntry("Code", "Success").containsEntry("n", 3599L).containsEntry("d", 1.5)
                .containsEntry("none", null).containsEntry("yes", true)
                .containsEntry("codes", List.of("a", Map.of("b", List.of()))).containsEntry("esc", "a\"b\\c\né/");
    }

    @Test
    void refusesWhatIsNotAnObject_withoutQuotingIt() {
        assertThatThrownBy(() -> SmallJson.object("<html>secret</html>")).hasMessageNotContaining("secret");
        assertThatThrownBy(() -> SmallJson.object("[1]")).hasMessage("not a JSON object");
        assertThatThrownBy(() -> SmallJson.object("{\"a\": \"unclosed}")).hasMessage("JSON string not closed");
        assertThatThrownBy(() -> SmallJson.object("{\"a\": 1} trailing")).hasMessage("not a JSON object");
        assertThatThrownBy(() -> SmallJson.object("[".repeat(100))).hasMessage("JSON nested too deeply");
    }
}
