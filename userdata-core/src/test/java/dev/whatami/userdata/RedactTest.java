package dev.whatami.userdata;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

class RedactTest {
    @Test
    void url_withUserinfoQueryAndFragment_keepsOnlyWhatIdentifiesTheFile() {
        assertThat(Redact.url(URI.create("https://alice:hunter2@files.example:8443/roles/c.pl?X-Amz-Signature=abc#frag")))
                .isEqualTo("https://***@files.example:8443/roles/c.pl?***");
    }

    @Test
    void url_plain_isUnchanged() {
        assertThat(Redact.url(URI.create("http://192.168.7.77/scriptserver/collector.pl")))
                .isEqualTo("http://192.168.7.77/scriptserver/collector.pl");
        assertThat(Redact.url(URI.create("http://[fd00::1]:8080/scriptserver/c.sh")))
                .isEqualTo("http://[fd00::1]:8080/scriptserver/c.sh");
        assertThat(Redact.url(URI.create("file:///srv/roles/c.sh"))).isEqualTo("file:///srv/roles/c.sh");
    }

    @Test
    void url_unparsable_showsOnlyItsScheme() {
        assertThat(Redact.url("https://user:pa ss@host/x")).isEqualTo("https:***");
        assertThat(Redact.url("not a url at all")).isEqualTo("***");
    }

    @Test
    void text_replacesLongestSecretsFirst() {
        assertThat(Redact.text("token=abcdef and abc", List.of("abc", "abcdef", "")))
                .isEqualTo("token=*** and ***");
        assertThat(Redact.text("nothing here", List.of())).isEqualTo("nothing here");
    }
}
