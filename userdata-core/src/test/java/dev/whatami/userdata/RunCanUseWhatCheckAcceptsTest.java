package dev.whatami.userdata;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What check accepts, run can do: URLs java.net.URI and Path.of read later, and MIME that does not nest forever. */
class RunCanUseWhatCheckAcceptsTest {
    private final UserDataParser parser = UserDataParser.create();

    private UserDataException failure(byte[] bytes) {
        try {
            parser.parse(bytes);
        } catch (UserDataException e) {
            return e;
        }
        throw new AssertionError("expected a UserDataException");
    }

    private UserDataException failure(String text) {
        return failure(text.getBytes(UTF_8));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "file://files.example/opt/c.sh      | the URL file://files.example/opt/c.sh names a host, but a file: URL names a file on this machine; write three slashes and the path, e.g. file:///opt/roles/collector.pl",
        "file://localhost/opt/c.sh          | the URL file://localhost/opt/c.sh names a host",
        "file:///opt/c.sh?v=2               | the URL file:///opt/c.sh?*** has a query (?...), which a local file has no use for; drop it.",
        "file:///opt/c.sh#top               | the URL file:///opt/c.sh ends in a #fragment, which is never sent to a server and names no file; drop it.",
        "https://files.example/c.sh#top     | the URL https://files.example/c.sh ends in a #fragment",
        "file:///opt%00/c.sh                | the URL file:///opt%00/c.sh names no local file (Nul character not allowed); write e.g. file:///opt/roles/collector.pl",
        "http://files.example:99999/c.sh    | port 99999 in http://files.example:99999/c.sh is out of range; use a number 1-65535, e.g. https://files.example:8443/roles/collector.pl",
        "http://files.example:0/c.sh        | port 0 in http://files.example:0/c.sh is out of range",
        "http://files.example:99999999999/c.sh | the port in http://files.example:99999999999/c.sh is out of range; use a number 1-65535",
        "http://[fe80::1%25eth0]/c.sh       | the URL http://[fe80::1%25eth0]/c.sh gives an IPv6 zone id (%...), which whatami does not support; use an address without one.",
        "http://files_example/c.sh          | the URL http://files_example/c.sh has no host java.net.URI can read",
        "file:c.sh                          | the URL file:*** has no path (\"file:\" must be followed by \"/\"); write e.g. file:///opt/roles/collector.pl.",
    })
    void urlsRunCouldNotUse_areRefusedByCheck(String url, String message) {
        UserDataException e = failure(url);
        assertThat(e.problems()).singleElement().satisfies(p -> {
            assertThat(p.line()).isEqualTo(1);
            assertThat(p.column()).isEqualTo(1);
            assertThat(p.message()).startsWith(message);
        });
    }

    @Test
    void mirrorsAndReportUrls_followTheSameRules() {
        assertThat(failure("c.sh 10.0.0.1 mirror=file://h/c.sh mirror=http://m:65536/c.sh report=http://r:0/r")
                .problems()).extracting(Problem::message).containsExactly(
                "the URL file://h/c.sh names a host, but a file: URL names a file on this machine; write three slashes "
                        + "and the path, e.g. file:///opt/roles/collector.pl",
                "port 65536 in http://m:65536/c.sh is out of range; use a number 1-65535, e.g. "
                        + "https://files.example:8443/roles/collector.pl",
                "port 0 in http://r:0/r is out of range; use a number 1-65535, e.g. "
                        + "https://files.example:8443/roles/collector.pl");
    }

    @Test
    void goodFileAndHttpUrls_stillParse() {
        assertThat(parser.parse(("file:///opt/roles/c.sh\nfile:/opt/roles/d.sh\nhttp://h:65535/e.sh\n"
                + "https://[fd00::1]:1/f.sh?versionId=3\n").getBytes(UTF_8)).tasks()).hasSize(4);
    }

    static String nested(int levels) {
        String s = "Content-Type: text/x-whatami\n\ncollector.pl 192.168.7.77\n";
        for (int i = 0; i < levels; i++) {
            String b = "b" + i;
            s = "Content-Type: multipart/mixed; boundary=" + b + "\n\n--" + b + "\n" + s + "\n--" + b + "--\n";
        }
        return "MIME-Version: 1.0\n" + s;
    }

    @Test
    void mimeNested2000Deep_in16KiBOfGzip_isOneWholeProblem_notAStackOverflow() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(nested(2000).getBytes(UTF_8));
        }
        assertThat(out.size()).isLessThan(16 * 1024); // fits EC2's user-data limit
        UserDataException e = failure(out.toByteArray());
        assertThat(e.problems()).singleElement().hasToString("the MIME user-data nests multiparts more than 10 deep (a "
                + "multipart part inside a multipart, and so on); whatami reads at most 10 levels. Put the parts side "
                + "by side in one multipart/mixed (as cloud-init's make-mime writes it).");
    }

    @Test
    void mimeNestedTenDeep_isRead_elevenIsNot() {
        assertThat(parser.parse(nested(10).getBytes(UTF_8)).tasks()).extracting(TaskSpec::name)
                .containsExactly("collector.pl");
        assertThat(failure(nested(11)).getMessage()).contains("nests multiparts more than 10 deep");
    }
}
