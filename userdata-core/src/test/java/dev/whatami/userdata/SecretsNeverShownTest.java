package dev.whatami.userdata;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * No problem, message or warning ever holds an env value, the value of an unknown or misspelled key, URL userinfo or
 * a URL query: each case carries the canary "hunter2" and must still say something (a problem or a warning).
 */
class SecretsNeverShownTest {
    private static final String CANARY = "hunter2";
    private final UserDataParser parser = UserDataParser.create();

    /** Everything the parser says about {@code text}: the exception's message, its problems, or the warnings. */
    private List<String> said(String text) {
        List<String> out = new ArrayList<>();
        try {
            TaskPlan plan = parser.parse(text.getBytes(UTF_8));
            plan.warnings().forEach(w -> {
                out.add(w.text());
                out.add(w.message());
                out.add(w.toString());
            });
        } catch (UserDataException e) {
            out.add(e.getMessage());
            e.problems().forEach(p -> {
                out.add(p.text());
                out.add(p.message());
            });
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {
        // quoted lines: the quote-removal warning says what to write
        "\"c.sh 10.0.0.1 env.SECRET=hunter2\"",
        "\u201Cc.sh 10.0.0.1 env.SECRET=hunter2 -- --password=hunter2\u201D",
        "'c.sh 10.0.0.1 env.SECRET=hunter2'",
        // typographic quotes inside: the error shows the plain line
        "c.sh \u201C10.0.0.1 env.SECRET=hunter2",
        "c.sh 10.0.0.1 env.SECRET=\u201Chunter2\u201D",
        // a key before the script
        "env.SECRET=hunter2 c.sh 10.0.0.1",
        "evn.SECRET=hunter2 c.sh 10.0.0.1",
        // unknown and misspelled keys
        "c.sh 10.0.0.1 evn.SECRET=hunter2",
        "c.sh 10.0.0.1 env=hunter2",
        "c.sh 10.0.0.1 ENV.1x=hunter2",
        "c.sh 10.0.0.1 password=hunter2",
        "c.sh 10.0.0.1 Token.X=hunter2 retries=x",
        // an env value on a line with another problem
        "c.sh 999.1.1.1 env.SECRET=hunter2",
        "c.sh 10.0.0.1 env.SECRET=hunter2 env.SECRET=hunter2",
        // URLs: userinfo and query strings
        "https://user:hunter2@files.example/c.sh",
        "https://hunter2@files.example/c.sh",
        "ftp://user:hunter2@files.example/c.sh",
        "https://files.example/c.sh?X-Amz-Signature=hunter2%zz",
        "https://user:hunter2@files.example/c%zz.sh",
        "https://files.example/c.sh?sig=hunter2 timeout=1",
        "https://files.example/dir/?token=hunter2",
        "file://user:hunter2@host/opt/c.sh",
        "file:///opt/c.sh?token=hunter2",
        "c.sh 10.0.0.1 mirror=https://u:hunter2@m.example/c.sh",
        "c.sh 10.0.0.1 mirror=u:hunter2@10.0.0.2",
        "c.sh 10.0.0.1 mirror=https://m.example/c.sh?token=hunter2%zz",
        "c.sh 10.0.0.1 report=https://u:hunter2@h/reports",
        "c.sh 10.0.0.1 report=ftp://h/r?token=hunter2",
        // credentials in a server word
        "c.sh user:hunter2@10.0.0.1",
        "c.sh hunter2@10.0.0.1",
        "hunter2@x 10.0.0.1",
        // args with key=value in a message that shows the line
        "\"c.sh 10.0.0.1 -- --token=hunter2\"",
    })
    void aSecret_isNeverShown(String line) {
        List<String> said = said(line);
        assertThat(said).as(line).isNotEmpty();
        assertThat(String.join("\n", said)).as(line).doesNotContain(CANARY);
    }

    @Test
    void inMimeParts_too() {
        String mime = "Content-Type: multipart/mixed; boundary=\"B\"\nMIME-Version: 1.0\n\n--B\n"
                + "Content-Type: text/x-whatami\n\n\"c.sh 10.0.0.1 env.SECRET=hunter2\"\nd.sh 10.0.0.1 evn.X=hunter2\n"
                + "--B\nContent-Type: text/x-shellscript\nContent-Disposition: attachment; filename=\"t=hunter2\"\n\n"
                + "#!/bin/sh\n--B\nContent-Type: text/x-foo=hunter2\n\nx\n--B\nno-colon-header hunter2\n\nx\n--B--\n";
        List<String> said = said(mime);
        assertThat(String.join("\n", said)).contains("unknown key \"evn.X\"").doesNotContain(CANARY);
    }

    @Test
    void theQuoteWarning_showsTheLineWithItsSecretsMasked() {
        TaskPlan plan = parser.parse("\"c.sh 10.0.0.1 sha256=".concat("a".repeat(64))
                .concat(" env.SECRET=hunter2 mirror=https://m/c.sh?x=hunter2 -- --token=hunter2 plain\"")
                .getBytes(UTF_8));
        assertThat(plan.warnings()).singleElement().hasToString("line 1, column 1: removed the quotes \"…\" around the "
                + "line; user-data needs none. Write: c.sh 10.0.0.1 sha256=" + "a".repeat(64) + " env.SECRET=*** "
                + "mirror=https://m/c.sh?*** -- --token=*** plain");
    }

    @Test
    void aKeyBeforeTheScript_andAnUnknownKey_sayWhatToWriteWithoutTheValue() {
        assertThatThrownBy(() -> parser.parse("env.SECRET=hunter2 c.sh 10.0.0.1".getBytes(UTF_8)))
                .hasMessage("invalid user-data: line 1, column 1: a task line starts with the script's name or URL, "
                        + "not a key; write e.g. collector.pl 192.168.7.77 env.SECRET=***");
        assertThatThrownBy(() -> parser.parse("c.sh 10.0.0.1 evn.SECRET=hunter2".getBytes(UTF_8)))
                .hasMessage("invalid user-data: line 1, column 15: unknown key \"evn.SECRET\"; did you mean "
                        + "\"env.NAME\"? Known keys: sha256, sha512, mirror, frequency, retries, timeout, as, env.NAME, "
                        + "report, sig. If \"evn.SECRET=***\" is an argument for the script, put it after --: c.sh <server> "
                        + "-- evn.SECRET=***");
    }

    @Test
    void credentialsInAUrl_areRefused_sayingTheyAreNeverSent() {
        assertThatThrownBy(() -> parser.parse("https://user:hunter2@files.example/roles/c.sh".getBytes(UTF_8)))
                .hasMessage("invalid user-data: line 1, column 1: the URL https://***@files.example/roles/c.sh carries "
                        + "credentials (user:password@); whatami never sends credentials in URLs, and would show them "
                        + "in its logs. Drop them: use a presigned URL (its signature in the query string), or a file "
                        + "server the instance can reach without them.");
        assertThatThrownBy(() -> parser.parse("c.sh user:hunter2@10.0.0.1".getBytes(UTF_8)))
                .hasMessage("invalid user-data: line 1, column 6: the server \"***@10.0.0.1\" holds credentials (user@ "
                        + "or user:password@); whatami never sends credentials in URLs. Give host[:port] only, e.g. "
                        + "192.168.7.77:8080.");
    }
}
