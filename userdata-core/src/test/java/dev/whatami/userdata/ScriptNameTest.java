package dev.whatami.userdata;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScriptNameTest {
    @ParameterizedTest
    @ValueSource(strings = {"collector.pl", "a", "0", "role_1.sh", "x-y.z", "A.B-C_D", "user-data-script", "part-001"})
    void validNames_areAccepted(String name) {
        assertThat(ScriptName.problem(name)).isEmpty();
        assertThat(ScriptName.isValid(name)).isTrue();
        assertThat(ScriptName.of(name).value()).isEqualTo(name);
        assertThat(ScriptName.of(name)).hasToString(name).isEqualTo(ScriptName.of(name));
    }

    @Test
    void eachRule_hasItsOwnMessage_sayingWhatToWriteInstead() {
        assertThat(ScriptName.problem("")).contains("the script name is empty; give the script's file name, e.g. "
                + "collector.pl.");
        assertThat(ScriptName.problem("../../etc/passwd")).contains("\"../../etc/passwd\" is a path; a script name "
                + "is never a path. Put the script in the server's scriptserver directory and give its file name, or "
                + "give its full URL.");
        assertThat(ScriptName.problem("a\\b")).get().asString().startsWith("\"a\\b\" is a path");
        assertThat(ScriptName.problem(".htpasswd")).contains("script name \".htpasswd\" starts with \".\"; names of "
                + "hidden files and \"..\" are refused. Rename the script, e.g. collector.pl.");
        assertThat(ScriptName.problem("..")).get().asString().contains("starts with \".\"");
        assertThat(ScriptName.problem("c$.pl")).contains("script name \"c$.pl\" may hold only letters, digits, '.', "
                + "'_' and '-', starting with a letter or digit; rename the script, e.g. collector.pl.");
        assertThat(ScriptName.problem("my script.sh")).get().asString().contains("may hold only letters");
        assertThat(ScriptName.problem("-rf")).get().asString().contains("starting with a letter or digit");
        assertThat(ScriptName.problem("caf\u00e9.sh")).get().asString().contains("may hold only letters");
    }

    @Test
    void length_isCountedInUtf8Bytes() {
        assertThat(ScriptName.problem("a".repeat(255))).isEmpty();
        assertThat(ScriptName.problem("a".repeat(256))).contains("script name is 256 bytes long; the limit is 255 "
                + "bytes. Use a shorter file name.");
        // 128 two-byte characters: 128 characters but 256 bytes
        assertThat(ScriptName.problem("\u00e9".repeat(128))).contains("script name is 256 bytes long; the limit is "
                + "255 bytes. Use a shorter file name.");
    }

    @Test
    void of_refusesWithTheSameMessage() {
        assertThatThrownBy(() -> ScriptName.of("a/b")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(ScriptName.problem("a/b").orElseThrow());
        assertThatThrownBy(() -> ScriptName.problem(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void ordering_isByName() {
        assertThat(List.of(ScriptName.of("b.sh"), ScriptName.of("a.sh")).stream().sorted().map(ScriptName::value))
                .containsExactly("a.sh", "b.sh");
    }

    @Test
    void taskSpec_refusesAnInvalidName_withTheRule() {
        TaskSource source = new TaskSource.Remote(URI.create("http://10.0.0.1/scriptserver/x"), List.of());
        assertThatThrownBy(() -> TaskSpec.builder("my script.sh", source).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("builder(name, source): " + ScriptName.problem("my script.sh").orElseThrow());
    }

    @Test
    void mimeFilename_thatIsNoScriptName_givesTheTaskAPartName_andSaysWhy() {
        String mime = "Content-Type: multipart/mixed; boundary=\"B\"\nMIME-Version: 1.0\n\n--B\n"
                + "Content-Type: text/x-shellscript\nContent-Disposition: attachment; filename=\".profile\"\n\n"
                + "#!/bin/sh\necho hi\n--B--\n";
        TaskPlan plan = UserDataParser.create().parse(mime.getBytes(UTF_8));
        assertThat(plan.tasks()).extracting(TaskSpec::name).containsExactly("part-001");
        assertThat(plan.warnings()).singleElement().hasToString("MIME part 1 (text/x-shellscript): the task is called "
                + "part-001 because its filename is not a script name: " + ScriptName.problem(".profile").orElseThrow());
    }
}
