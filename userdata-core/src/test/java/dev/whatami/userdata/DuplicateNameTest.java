package dev.whatami.userdata;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Two tasks with one script name would share a directory, logs and a run-once record: refused at the second. */
class DuplicateNameTest {
    private final UserDataParser parser = UserDataParser.create();

    private UserDataException failure(String text) {
        try {
            parser.parse(text.getBytes(UTF_8));
        } catch (UserDataException e) {
            return e;
        }
        throw new AssertionError("expected a UserDataException for " + text);
    }

    @Test
    void sameNameFromTwoServers_isRefusedAtTheSecond_namingTheFirst() {
        UserDataException e = failure("role.sh 10.0.0.1\n# another\nhttps://files.example/x/role.sh sha256="
                + "a".repeat(64) + "\n");
        assertThat(e.problems()).singleElement().satisfies(p -> {
            assertThat(p.line()).isEqualTo(3);
            assertThat(p.column()).isEqualTo(1);
            assertThat(p.text()).isEqualTo("role.sh");
            assertThat(p).hasToString("line 3, column 1: a second task named role.sh (line 1 has one); each task's "
                    + "directory, logs and run-once record are kept under its name — give one of them another file "
                    + "name on its server.");
        });
    }

    @Test
    void everyRepeat_isReported_andNamesDifferingInCase_areDifferent() {
        UserDataException e = failure("a.sh 10.0.0.1\nA.sh 10.0.0.1\na.sh 10.0.0.2\n  a.sh 10.0.0.3\n");
        assertThat(e.problems()).extracting(Problem::toString).containsExactly(
                "line 3, column 1: a second task named a.sh (line 1 has one); each task's directory, logs and "
                        + "run-once record are kept under its name — give one of them another file name on its server.",
                "line 4, column 3: a second task named a.sh (line 1 has one); each task's directory, logs and "
                        + "run-once record are kept under its name — give one of them another file name on its server.");
    }

    @Test
    void aBadLine_isNotCountedAsTheFirst() {
        assertThat(failure("a.sh 999.1.1.1\na.sh 10.0.0.1\n").problems()).extracting(Problem::line)
                .containsExactly(1);
    }

    private static String mime(String... parts) {
        StringBuilder b = new StringBuilder("Content-Type: multipart/mixed; boundary=\"B\"\nMIME-Version: 1.0\n\n");
        for (String p : parts) {
            b.append("--B\n").append(p).append('\n');
        }
        return b.append("--B--\n").toString();
    }

    @Test
    void acrossMimeParts_scriptsAndLines() {
        UserDataException e = failure(mime(
                "Content-Type: text/x-shellscript\nContent-Disposition: attachment; filename=\"role.sh\"\n\n#!/bin/sh\n",
                "Content-Type: text/x-whatami\n\n# roles\nrole.sh 10.0.0.1\n",
                "Content-Type: text/x-shellscript\nContent-Disposition: attachment; filename=\"role.sh\"\n\n#!/bin/sh\n",
                "Content-Type: text/plain\n\nother.sh 10.0.0.1\nother.sh 10.0.0.2\n"));
        assertThat(e.problems()).extracting(Problem::toString).containsExactly(
                "line 2, column 1: MIME part 2 (text/x-whatami): a second task named role.sh (MIME part 1 has one); "
                        + "each task's directory, logs and run-once record are kept under its name — give one of them "
                        + "another file name on its server.",
                "MIME part 3 (text/x-shellscript): a second task named role.sh (MIME part 1 has one); each task's "
                        + "directory, logs and run-once record are kept under its name — give one of the parts another "
                        + "filename (its Content-Disposition header).",
                "line 2, column 1: MIME part 4 (text/plain): a second task named other.sh (MIME part 4, line 1 has "
                        + "one); each task's directory, logs and run-once record are kept under its name — give one "
                        + "of them another file name on its server.");
    }

    @Test
    void generatedPartNames_collideWithALineOnlyIfTheLineUsesOne() {
        TaskPlan plan = parser.parse(mime("Content-Type: text/x-shellscript\n\n#!/bin/sh\n",
                "Content-Type: text/x-whatami\n\npart-002 10.0.0.1\n").getBytes(UTF_8));
        assertThat(plan.tasks()).extracting(TaskSpec::name).containsExactly("part-001", "part-002");
        assertThat(failure(mime("Content-Type: text/x-shellscript\n\n#!/bin/sh\n",
                "Content-Type: text/x-whatami\n\npart-001 10.0.0.1\n")).problems()).singleElement()
                .extracting(Problem::message).asString().startsWith("MIME part 2 (text/x-whatami): a second task named "
                        + "part-001 (MIME part 1 has one)");
    }
}
