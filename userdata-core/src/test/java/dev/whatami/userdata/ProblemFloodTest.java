package dev.whatami.userdata;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

/**
 * A small gzip of one long line of bad words once made the parser keep every problem and render them all into one
 * message (out of memory under the launcher's heap; a multi-megabyte status.json). Problems are capped, counted, and
 * each shown word is short. This module's tests run with -Xmx256m.
 */
class ProblemFloodTest {
    private final UserDataParser parser = UserDataParser.create();

    private static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(raw);
        }
        return out.toByteArray();
    }

    private static UserDataException invalid(Runnable parse) {
        try {
            parse.run();
        } catch (UserDataException e) {
            return e;
        }
        return fail("the user-data was accepted");
    }

    @Test
    void oneLongLineOfBadWords_keepsTheFirst100AndCountsTheRest() throws IOException {
        int words = 120_000;
        byte[] raw = ("a.sh 192.168.7.77" + " bogus=1".repeat(words) + "\n").getBytes(UTF_8);
        byte[] userData = gzip(raw);
        assertThat(userData.length).isLessThan(4096);

        UserDataException e = invalid(() -> parser.parse(userData));

        assertThat(e.problemCount()).isGreaterThanOrEqualTo(words);
        assertThat(e.problems()).hasSize(101);
        assertThat(e.problems().get(100).message())
                .isEqualTo("and " + (e.problemCount() - 100) + " more problems (the first 100 are shown)");
        assertThat(e.getMessage()).hasSizeLessThan(64 * 1024)
                .contains("and " + (e.problemCount() - 100) + " more problems");
    }

    @Test
    void aHugeUnknownKey_isShownShortened() {
        String key = "k".repeat(200_000);
        UserDataException e = invalid(
                () -> parser.parse(("a.sh 192.168.7.77 " + key + "x=1\n").getBytes(UTF_8)));
        assertThat(e.getMessage()).hasSizeLessThan(2048).contains("kkkk").contains("200001 characters");
    }

    @Test
    void aHugeFrequencyValue_isShownShortened() {
        String value = "9".repeat(300_000);
        UserDataException e = invalid(
                () -> parser.parse(("a.sh 192.168.7.77 frequency=" + value + "\n").getBytes(UTF_8)));
        assertThat(e.getMessage()).hasSizeLessThan(2048);
    }

    @Test
    void manyBadLines_inMime_areCappedToo() {
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            body.append("x").append(i).append(".sh 10.0.0.1 bogus").append(i).append("=1\n");
        }
        String mime = "Content-Type: multipart/mixed; boundary=\"B\"\nMIME-Version: 1.0\n\n--B\n"
                + "Content-Type: text/x-whatami\n\n" + body + "--B--\n";
        UserDataException e = invalid(() -> parser.parse(mime.getBytes(UTF_8)));
        assertThat(e.problemCount()).isGreaterThan(100);
        assertThat(e.problems()).hasSize(101);
        assertThat(e.getMessage()).hasSizeLessThan(64 * 1024);
    }
}
