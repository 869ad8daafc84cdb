package dev.whatami.userdata;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** check finds every problem on a line, and names user-data written for other tools for what it is. */
class EveryProblemTest {
    private final UserDataParser parser = UserDataParser.create();

    private UserDataException failure(String text) {
        try {
            parser.parse(text.getBytes(UTF_8));
        } catch (UserDataException e) {
            return e;
        }
        throw new AssertionError("expected a UserDataException for " + text);
    }

    private static List<String> located(UserDataException e) {
        return e.problems().stream().map(Problem::toString).toList();
    }

    @Test
    void aBadServerWord_doesNotHideTheBadOptionsAfterIt() {
        UserDataException e = failure("c.sh 1.2.3.4:99999 timeout=5x frequency=sometimes");
        assertThat(e.problems()).extracting(Problem::column).containsExactly(6, 20, 31);
        assertThat(located(e)).containsExactly(
                "line 1, column 6: port \"99999\" in \"1.2.3.4:99999\" is out of range; use a number 1-65535, e.g. "
                        + "1.2.3.4:8080.",
                "line 1, column 20: timeout \"5x\" must be a positive number followed by s, m or h; e.g. "
                        + "timeout=90s, timeout=10m, timeout=2h.",
                "line 1, column 31: frequency \"sometimes\" is not one of per-instance, per-boot, once, always.");
    }

    @Test
    void aBadNameAndABadServer_areBothReported() {
        assertThat(failure("c$.sh 999.1.1.1 retries=x").problems()).extracting(Problem::column)
                .containsExactly(1, 7, 17);
    }

    @Test
    void aMissingServer_doesNotHideTheOptions() {
        assertThat(located(failure("collector.pl timeout=5x sha256=abc"))).containsExactly(
                "line 1, column 14: missing server after \"collector.pl\"; write collector.pl <server> [key=value ...], "
                        + "e.g. collector.pl 192.168.7.77, or give the script's full URL.",
                "line 1, column 14: timeout \"5x\" must be a positive number followed by s, m or h; e.g. "
                        + "timeout=90s, timeout=10m, timeout=2h.",
                "line 1, column 25: sha256 must be 64 hex digits, got 3 characters; compute it with: sha256sum "
                        + "collector.pl");
    }

    @Test
    void aBadUrl_doesNotHideTheOptions_norABadMirror() {
        assertThat(failure("ftp://h/c.sh mirror=999.1.1.1 retries=5000 as=perl\\ -w").problems())
                .extracting(Problem::column).containsExactly(1, 21, 31, 44);
        assertThat(failure("https://h/dir/ timeout=0s").problems()).extracting(Problem::message).containsExactly(
                "the URL names no file (it ends in \"/\"); give the script's own URL, e.g. "
                        + "https://files.example/roles/collector.pl",
                "timeout \"0s\" must be a positive number followed by s, m or h; e.g. timeout=90s, timeout=10m, "
                        + "timeout=2h.");
    }

    @Test
    void everyLine_isChecked() {
        UserDataException e = failure("a.sh 10.0.0.1 timeout=1\nb.sh 10.0.0.1\nc.sh 10.0.0.1:0 frequency=never\n");
        assertThat(e.problems()).extracting(Problem::line).containsExactly(1, 3, 3);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "'#cloud-config\\npackages:\\n - perl\\n'     | CLOUD_CONFIG         | cloud-config (it starts with #cloud-config), which cloud-init runs",
        "'  #Cloud-Config\\n'                        | CLOUD_CONFIG         | cloud-config (it starts with #cloud-config)",
        "'#cloud-config-archive\\n- type: x\\n'       | CLOUD_CONFIG_ARCHIVE | a cloud-config archive (it starts with #cloud-config-archive), which cloud-init reads",
        "'#cloud-config-jsonp\\n[]\\n'                | CLOUD_CONFIG_JSONP   | a cloud-config JSON patch (it starts with #cloud-config-jsonp)",
        "'#cloud-boothook\\necho early\\n'            | BOOTHOOK             | a cloud-init boothook (it starts with #cloud-boothook), which cloud-init runs",
        "'## template: jinja\\n#cloud-config\\n'      | JINJA_TEMPLATE       | a Jinja template (it starts with ## template: jinja), which cloud-init renders",
        "'#include\\nhttps://h/ud.txt\\n'             | INCLUDE              | an include list (it starts with #include), which cloud-init fetches",
        "'#include-once\\nhttps://h/ud.txt\\n'        | INCLUDE_ONCE         | an include-once list (it starts with #include-once)",
        "'#part-handler\\ndef list_types(): pass\\n'  | PART_HANDLER         | a cloud-init part handler (it starts with #part-handler)",
        "'#upstart-job\\nstart on startup\\n'         | UPSTART_JOB          | an upstart job (it starts with #upstart-job), which cloud-init installs",
        "'<powershell>\\nWrite-Host hi\\n</powershell>' | WINDOWS_SCRIPT     | a Windows user-data script (it starts with <powershell>), which EC2Launch or cloudbase-init runs",
        "'#ps1_sysnative\\nWrite-Host hi\\n'          | WINDOWS_SCRIPT       | a Windows user-data script (it starts with #ps1_sysnative)",
        "'{\"ignition\": {\"version\": \"3.4.0\"}}'     | IGNITION             | an Ignition config (JSON with an \"ignition\" key), which Ignition runs",
    })
    void otherToolsUserData_isOneWholeProblemThatNamesIt(String input, ForeignFormat format, String expected) {
        String text = input.replace("\\n", "\n");
        assertThatThrownBy(() -> parser.parse(text.getBytes(UTF_8)))
                .isInstanceOfSatisfying(ForeignFormatException.class, e -> {
                    assertThat(e.format()).isEqualTo(format);
                    assertThat(e.problems()).singleElement().satisfies(p -> {
                        assertThat(p.line()).isZero();
                        assertThat(p.message()).startsWith("this is " + expected);
                        assertThat(p.message()).contains(" and whatami does not; give whatami task lines such as "
                                + "collector.pl 192.168.7.77, or, to use both, MIME multipart user-data (cloud-init's "
                                + "make-mime) with whatami's lines in a text/x-whatami part.");
                    });
                });
    }

    @Test
    void cloudConfig_exactMessage() {
        assertThat(failure("#cloud-config\npackages: [perl]\n").getMessage()).isEqualTo("invalid user-data: this is "
                + "cloud-config (it starts with #cloud-config), which cloud-init runs and whatami does not; give "
                + "whatami task lines such as collector.pl 192.168.7.77, or, to use both, MIME multipart user-data "
                + "(cloud-init's make-mime) with whatami's lines in a text/x-whatami part.");
    }

    @Test
    void aCommentThatOnlyLooksLikeAMarker_isStillLineForm() {
        assertThat(parser.parse("# cloud-config is not used here\nc.sh 10.0.0.1\n".getBytes(UTF_8)).tasks())
                .hasSize(1);
    }

    private static String mime(String... parts) {
        StringBuilder b = new StringBuilder("Content-Type: multipart/mixed; boundary=\"B\"\nMIME-Version: 1.0\n\n");
        for (String p : parts) {
            b.append("--B\n").append(p).append('\n');
        }
        return b.append("--B--\n").toString();
    }

    @Test
    void mimePartsOfOtherTools_areWarningsThatNameThem() {
        TaskPlan plan = parser.parse(mime(
                "Content-Type: text/cloud-boothook\n\n#cloud-boothook\necho early\n",
                "Content-Type: text/jinja2\n\n## template: jinja\n#cloud-config\n",
                "Content-Type: text/x-include-url\n\n#include\nhttps://h/x\n",
                "Content-Type: text/part-handler\n\n#part-handler\n",
                "Content-Type: text/upstart-job\n\n#upstart-job\n",
                "Content-Type: text/plain\n\n#cloud-config\npackages: [perl]\n",
                "Content-Type: text/plain\n\n#!/bin/sh\necho hi\n",
                "Content-Type: application/octet-stream\n\nxx\n",
                "Content-Type: text/x-whatami\n\nc.sh 10.0.0.1\n").getBytes(UTF_8));
        assertThat(plan.tasks()).extracting(TaskSpec::name).containsExactly("c.sh");
        assertThat(plan.warnings()).extracting(Problem::toString).containsExactly(
                "MIME part 1 (text/cloud-boothook) is a cloud-init boothook, which cloud-init runs and whatami does "
                        + "not: ignored.",
                "MIME part 2 (text/jinja2) is a Jinja template, which cloud-init renders and whatami does not: "
                        + "ignored.",
                "MIME part 3 (text/x-include-url) is an include list, which cloud-init fetches and whatami does not: "
                        + "ignored.",
                "MIME part 4 (text/part-handler) is a cloud-init part handler, which cloud-init runs and whatami does "
                        + "not: ignored.",
                "MIME part 5 (text/upstart-job) is an upstart job, which cloud-init installs and whatami does not: "
                        + "ignored.",
                "MIME part 6 (text/plain) is cloud-config (it starts with #cloud-config), which cloud-init runs and "
                        + "whatami does not: ignored.",
                "MIME part 7 (text/plain) is a script (it starts with #!), which cloud-init runs from a text/plain "
                        + "part and whatami runs only from a text/x-shellscript part: ignored.",
                "MIME part 8 (application/octet-stream) is ignored: whatami runs text/x-shellscript, text/x-whatami "
                        + "and text/plain parts.");
    }

    @Test
    void aWhatamiPartHoldingAnotherFormat_isAProblemWithTheRightType() {
        assertThat(located(failure(mime("Content-Type: text/x-whatami\n\n#cloud-config\npackages: [perl]\n",
                "Content-Type: text/x-shellscript\n\n#cloud-boothook\necho early\n",
                "Content-Type: text/x-whatami\n\n#!/bin/sh\necho hi\n")))).containsExactly(
                "MIME part 1 (text/x-whatami) is cloud-config (it starts with #cloud-config), which cloud-init runs "
                        + "and whatami does not; give it Content-Type: text/cloud-config, or write task lines in it.",
                "MIME part 2 (text/x-shellscript) does not start with #!; make its first line the interpreter, e.g. "
                        + "#!/bin/sh. It is a cloud-init boothook (it starts with #cloud-boothook), which cloud-init "
                        + "runs and whatami does not; give it Content-Type: text/cloud-boothook, or make it a script.",
                "MIME part 3 (text/x-whatami) is a script (it starts with #!); give it Content-Type: "
                        + "text/x-shellscript, or write task lines in it.");
    }
}
