package dev.whatami.userdata;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UserDataParserTest {
    private final UserDataParser parser = UserDataParser.create();

    private TaskPlan parse(String text) {
        return parser.parse(text.getBytes(UTF_8));
    }

    private UserDataException failure(String text) {
        return failure(text.getBytes(UTF_8));
    }

    private UserDataException failure(byte[] bytes) {
        try {
            parser.parse(bytes);
        } catch (UserDataException e) {
            return e;
        }
        throw new AssertionError("expected a UserDataException");
    }

    @Test
    void seedLine_becomesOneTaskOnTheScriptServer() {
        TaskPlan plan = parse("collector.pl 192.168.7.77");

        assertThat(plan.tasks()).hasSize(1);
        TaskSpec task = plan.tasks().get(0);
        assertThat(task.name()).isEqualTo("collector.pl");
        assertThat(task.source()).isEqualTo(new TaskSource.Remote(
                URI.create("http://192.168.7.77/scriptserver/collector.pl"), List.of()));
        assertThat(task.server()).contains("192.168.7.77");
        assertThat(task.args()).isEmpty();
        assertThat(task.frequency()).isEqualTo(Frequency.PER_INSTANCE);
        assertThat(task.retries()).isZero();
        assertThat(plan.warnings()).isEmpty();
    }

    @Test
    void seedLineInTypographicQuotes_isAcceptedWithAWarning() {
        TaskPlan plan = parse("\u201Cprocessor.pl 192.168.7.77 \u201D");

        assertThat(plan.tasks()).extracting(TaskSpec::name).containsExactly("processor.pl");
        assertThat(plan.warnings()).hasSize(1);
        assertThat(plan.warnings().get(0).toString()).isEqualTo("line 1, column 1: removed the quotes \u201C\u2026\u201D "
                + "around the line; user-data needs none. Write: processor.pl 192.168.7.77");
    }

    @Test
    void straightQuotes_areAcceptedWithAWarning() {
        TaskPlan plan = parse("\"collector.pl 10.0.0.1:8080\"");
        assertThat(plan.tasks().get(0).server()).contains("10.0.0.1:8080");
        assertThat(plan.warnings()).hasSize(1);
    }

    @Test
    void typographicQuoteInsideTheLine_isAnErrorThatSaysWhatToType() {
        UserDataException e = failure("collector.pl \u201C192.168.7.77");
        assertThat(e.problems()).hasSize(1);
        assertThat(e.problems().get(0).toString()).isEqualTo("line 1, column 14: \"\u201C\" is a typographic quote; "
                + "user-data pasted from a web page? Use plain text: collector.pl 192.168.7.77");
        assertThat(e.line()).isEqualTo(1);
        assertThat(e.column()).isEqualTo(14);
    }

    @Test
    void portExtraWordsAndDashDash_becomeArguments() {
        TaskSpec task = parse("collector.pl files.example:8080 fast verbose -- --level=3 x=y").tasks().get(0);
        assertThat(task.source()).isEqualTo(new TaskSource.Remote(
                URI.create("http://files.example:8080/scriptserver/collector.pl"), List.of()));
        assertThat(task.args()).containsExactly("fast", "verbose", "--level=3", "x=y");
    }

    @Test
    void everyKey_isParsedIntoTheSpec() {
        String sha = "a".repeat(64);
        TaskSpec task = parse("collector.pl 10.0.0.1 sha256=" + sha.toUpperCase() + " mirror=10.0.0.2:81 "
                + "mirror=https://m.example/c.pl frequency=per-boot retries=2 timeout=5m as=perl "
                + "env.ROLE=collector env.EMPTY= report=http://10.0.0.1/reports").tasks().get(0);

        assertThat(task.digest()).contains(new Digest(DigestAlgorithm.SHA256, sha));
        assertThat(((TaskSource.Remote) task.source()).mirrors()).containsExactly(
                URI.create("http://10.0.0.2:81/scriptserver/collector.pl"), URI.create("https://m.example/c.pl"));
        assertThat(task.frequency()).isEqualTo(Frequency.PER_BOOT);
        assertThat(task.retries()).isEqualTo(2);
        assertThat(task.timeout()).contains(Duration.ofMinutes(5));
        assertThat(task.interpreter()).contains("perl");
        assertThat(task.env()).containsExactly(Map.entry("ROLE", "collector"), Map.entry("EMPTY", ""));
        assertThat(task.report()).contains(URI.create("http://10.0.0.1/reports"));
    }

    @Test
    void urlLinesIpv6CommentsBlankLinesAndCrlf() {
        TaskPlan plan = parse("\uFEFF# roles\r\n\r\nhttps://files.example/roles/c.sh sha512=" + "b".repeat(128)
                + "\r\nprocessor.pl [fd00::1]:8080   # the processor\r\n");
        assertThat(plan.tasks()).extracting(TaskSpec::name).containsExactly("c.sh", "processor.pl");
        assertThat(plan.tasks().get(0).server()).contains("files.example");
        assertThat(plan.tasks().get(1).source()).isEqualTo(new TaskSource.Remote(
                URI.create("http://[fd00::1]:8080/scriptserver/processor.pl"), List.of()));
        assertThat(plan.tasks().get(1).args()).isEmpty();
    }

    @Test
    void fileUrl_hasNoServer() {
        TaskSpec task = parse("file:///opt/roles/c.sh").tasks().get(0);
        assertThat(task.name()).isEqualTo("c.sh");
        assertThat(task.server()).isEmpty();
    }

    @Test
    void scriptForm_isOneInlineTask() {
        TaskPlan plan = parse("#!/bin/sh\necho hi\n");
        assertThat(plan.tasks()).hasSize(1);
        assertThat(plan.tasks().get(0).name()).isEqualTo(UserDataParser.SCRIPT_FORM_NAME);
        assertThat(plan.tasks().get(0).source()).isEqualTo(new TaskSource.Inline("#!/bin/sh\necho hi\n".getBytes(UTF_8)));
    }

    @Test
    void gzip_isInflated() throws IOException {
        assertThat(parser.parse(gzip("collector.pl 192.168.7.77".getBytes(UTF_8))).tasks())
                .extracting(TaskSpec::name).containsExactly("collector.pl");
    }

    @Test
    void gzipBomb_isRefusedWithTheLimit() throws IOException {
        byte[] bomb = gzip(new byte[UserDataParser.MAX_INFLATED_BYTES + 1]);
        assertThat(bomb.length).isLessThan(64 * 1024);
        assertThat(failure(bomb).getMessage()).contains("inflates past 16777216 bytes (16 MiB)");
    }

    @Test
    void truncatedGzip_saysSo() throws IOException {
        byte[] gz = gzip("collector.pl 192.168.7.77\n".repeat(50).getBytes(UTF_8));
        byte[] truncated = java.util.Arrays.copyOf(gz, gz.length / 2);
        assertThat(failure(truncated).getMessage()).contains("truncated");
    }

    @Test
    void invalidUtf8_namesTheByteOffset() {
        byte[] bytes = {'a', '.', 's', 'h', ' ', 'h', (byte) 0xC3, '(', '\n'};
        assertThat(failure(bytes).getMessage()).isEqualTo("invalid user-data: user-data is not valid UTF-8: "
                + "byte offset 6 (c3); save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8).");
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        UserDataException e = failure("collector.pl 999.1.1.1\nprocessor.pl host:99999\n../../etc/passwd 10.0.0.1\n"
                + "c.pl 10.0.0.1 sha265=abc");
        assertThat(e.problems()).extracting(Problem::line).containsExactly(1, 2, 3, 4);
        assertThat(e.problems().get(0).message()).startsWith("\"999.1.1.1\" is not an IPv4 address");
        assertThat(e.problems().get(1).message()).startsWith("port \"99999\" in \"host:99999\" is out of range");
        assertThat(e.problems().get(2).message()).startsWith("\"../../etc/passwd\" is a path");
        assertThat(e.problems().get(3).message()).startsWith("unknown key \"sha265\"; did you mean \"sha256\"?");
        assertThat(e.problems().get(3).column()).isEqualTo(15);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "''                                  | user-data is empty",
        "'   \t  '                           | user-data is empty",
        "'# only a comment'                  | user-data holds no task, only comments",
        "'collector.pl'                      | missing server after \"collector.pl\"",
        "'collector.pl sha256=abc'           | missing server after \"collector.pl\"",
        "'.hidden 10.0.0.1'                  | starts with \".\"",
        "'c.pl host_name'                    | \"host_name\" is not a valid host name",
        "'c.pl 192.q68.7.77'                 | its last label must start with a letter",
        "'c.pl 10.0.0.1 mirror=files.9'      | its last label must start with a letter",
        "'c$.pl 10.0.0.1'                    | may hold only letters, digits",
        "'c.pl fd00::1'                      | looks like an IPv6 address; put it in brackets",
        "'c.pl [10.0.0.1]'                   | is not an IPv6 address",
        "'c.pl [fd00::%]:80'                 | is not an IPv6 address",
        "'c.pl http://10.0.0.1'              | not a URL",
        "'c.pl 10.0.0.1 frequency=weekly'    | frequency \"weekly\" is not one of",
        "'c.pl 10.0.0.1 timeout=10'          | must be a positive number followed by s, m or h",
        "'c.pl 10.0.0.1 retries=-1'          | retries must be a whole number",
        "'c.pl 10.0.0.1 sha256=abc'          | sha256 must be 64 hex digits, got 3 characters",
        "'c.pl 10.0.0.1 env.1X=a'            | environment variable name \"1X\"",
        "'c.pl 10.0.0.1 as=a;b'              | must be a program name or absolute path",
        "'c.pl 10.0.0.1 timeout=1s timeout=2s' | \"timeout\" is given twice",
        "'ftp://h/c.pl'                      | unsupported URL scheme \"ftp\"",
        "'https://h/dir/'                    | the URL names no file",
    })
    void badInput_getsASpecificMessage(String input, String expected) {
        assertThat(failure(input).getMessage()).contains(expected);
    }

    @Test
    void unicodeSpaceBetweenWords_isAnErrorThatSaysSo() {
        UserDataException e = failure("collector.pl\u00A0192.168.7.77");
        assertThat(e.problems()).singleElement().hasToString("line 1, column 13: U+00A0 is a no-break space; "
                + "user-data separates words with plain spaces. Type a space instead (pasted from a web page?).");
        assertThat(failure("c.sh 10.0.0.1 -- a\u2003b").problems().get(0).message()).startsWith("U+2003 is a Unicode "
                + "space;");
        // around the line it is only trimmed, like any whitespace
        assertThat(parse("\u2003c.sh 10.0.0.1\u2003").tasks()).extracting(TaskSpec::name).containsExactly("c.sh");
    }

    @Test
    void envKeyInAnyCase_isOneVariable_andGivenTwiceIsAnError() {
        assertThat(parse("c.sh 10.0.0.1 ENV.Role=x").tasks().get(0).env()).containsExactly(Map.entry("Role", "x"));
        assertThat(failure("c.sh 10.0.0.1 env.X=1 ENV.X=2").getMessage()).contains("line 1, column 23: \"ENV.X\" is "
                + "given twice; keep one.");
    }

    @Test
    void nulByte_isRefusedWithItsOffset() {
        assertThat(failure(new byte[] {'a', 0, 'b'}).getMessage()).contains("NUL byte at offset 1");
    }

    @Test
    void tooLongText_isRefusedWithTheLimit() {
        String big = "# " + "x".repeat(UserDataParser.MAX_TEXT_BYTES) + "\nc.pl 10.0.0.1";
        assertThat(failure(big).getMessage()).contains("the limit for the line form is 1048576 bytes (1 MiB)");
    }

    @Test
    void tooManyTasks_isRefusedWithTheLimit() {
        StringBuilder lines = new StringBuilder();
        for (int i = 1; i <= UserDataParser.MAX_TASKS + 2; i++) {
            lines.append("c").append(i).append(".pl 10.0.0.1\n");
        }
        UserDataException e = failure(lines.toString());
        assertThat(e.problems()).hasSize(1);
        assertThat(e.getMessage()).contains("line 257, column 1: more than 256 tasks (the limit); this is task 257.");
        assertThat(parse(lines.substring(0, lines.indexOf("c257.pl"))).tasks()).hasSize(256);
    }

    @Test
    void tooLongName_isRefusedWithTheLimit() {
        assertThat(failure("a".repeat(256) + " 10.0.0.1").getMessage()).contains("the limit is 255 bytes");
        assertThat(parse("a".repeat(255) + " 10.0.0.1").tasks()).hasSize(1);
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }
}
