package dev.whatami.userdata;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Base64;
import org.junit.jupiter.api.Test;

class MimeFormTest {
    private final UserDataParser parser = UserDataParser.create();

    private static String mime(String... parts) {
        StringBuilder b = new StringBuilder("Content-Type: multipart/mixed; boundary=\"==BOUNDARY==\"\n"
                + "MIME-Version: 1.0\n\n");
        for (String p : parts) {
            b.append("--==BOUNDARY==\n").append(p).append('\n');
        }
        return b.append("--==BOUNDARY==--\n").toString();
    }

    private TaskPlan parse(String text) {
        return parser.parse(text.getBytes(UTF_8));
    }

    @Test
    void shellScriptsAndTaskLines_becomeTasksInOrder_otherPartsAreReported() {
        TaskPlan plan = parse(mime(
                "Content-Type: text/x-shellscript; charset=\"us-ascii\"\n"
                        + "Content-Disposition: attachment; filename=\"setup.sh\"\n\n#!/bin/sh\necho setup\n",
                "Content-Type: text/cloud-config\n\n#cloud-config\npackages: [perl]\n",
                "Content-Type: text/x-whatami\n\ncollector.pl 192.168.7.77\n",
                "Content-Type: text/x-shellscript-per-boot\nContent-Transfer-Encoding: base64\n\n"
                        + Base64.getMimeEncoder().encodeToString("#!/bin/sh\necho every boot\n".getBytes(UTF_8)),
                "Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nprocessor.pl 10.0.0.=\n1\n"));

        assertThat(plan.tasks()).extracting(TaskSpec::name)
                .containsExactly("setup.sh", "collector.pl", "part-004", "processor.pl");
        assertThat(plan.tasks().get(0).source()).isEqualTo(new TaskSource.Inline("#!/bin/sh\necho setup\n".getBytes(UTF_8)));
        assertThat(plan.tasks().get(2).frequency()).isEqualTo(Frequency.PER_BOOT);
        assertThat(((TaskSource.Inline) plan.tasks().get(2).source()).content())
                .isEqualTo("#!/bin/sh\necho every boot\n".getBytes(UTF_8));
        assertThat(plan.tasks().get(3).server()).contains("10.0.0.1");
        assertThat(plan.warnings()).singleElement().hasToString("MIME part 2 (text/cloud-config) is cloud-config, which "
                + "cloud-init runs and whatami does not: ignored.");
    }

    @Test
    void problemsInALinePart_nameThePartLineAndColumn() {
        assertThatThrownBy(() -> parse(mime("Content-Type: text/x-whatami\n\n# roles\ncollector.pl 999.1.1.1\n")))
                .isInstanceOf(UserDataException.class)
                .hasMessageContaining("line 2, column 14: MIME part 1 (text/x-whatami): \"999.1.1.1\" is not an IPv4");
    }

    @Test
    void multipartWithoutBoundary_isExplained() {
        assertThatThrownBy(() -> parse("Content-Type: multipart/mixed\nMIME-Version: 1.0\n\n--x\n\nhello\n--x--\n"))
                .isInstanceOf(UserDataException.class)
                .hasMessageContaining("says \"multipart/mixed\" but gives no boundary");
    }

    @Test
    void shellPartWithoutShebang_isRefused() {
        assertThatThrownBy(() -> parse(mime("Content-Type: text/x-shellscript\n\necho no shebang\n")))
                .hasMessageContaining("MIME part 1 (text/x-shellscript) does not start with #!");
    }

    @Test
    void onlyIgnoredParts_isAnError() {
        assertThatThrownBy(() -> parse(mime("Content-Type: text/cloud-config\n\n#cloud-config\n")))
                .hasMessageContaining("the MIME user-data holds no task: every part was ignored (1)");
    }
}
