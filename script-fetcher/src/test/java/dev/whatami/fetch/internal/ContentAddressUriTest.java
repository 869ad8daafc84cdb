package dev.whatami.fetch.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import org.junit.jupiter.api.Test;

/** The content address is added to the query with the URL's other parts kept exactly as they were encoded. */
class ContentAddressUriTest {
    private static final String HEX = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    @Test
    void theAddress_isTheWholeQuery_lowerCase() {
        assertThat(ContentAddress.of(URI.create("http://files.example:8080/scriptserver/c.sh"), HEX.toUpperCase()))
                .hasToString("http://files.example:8080/scriptserver/c.sh?sha256=" + HEX);
    }

    @Test
    void anEncodedPath_staysEncoded() {
        URI u = ContentAddress.of(URI.create("https://files.example/roles/with%20space%2Bplus%2Fslash.sh"), HEX);
        assertThat(u.getRawPath()).isEqualTo("/roles/with%20space%2Bplus%2Fslash.sh");
        assertThat(u.getRawQuery()).isEqualTo("sha256=" + HEX);
    }

    @Test
    void anExistingQuery_isKept_andTheParameterComesLast() {
        assertThat(ContentAddress.withParameter(URI.create("https://h/c.sh?a=1&b=x%26y"), "sha256", HEX))
                .hasToString("https://h/c.sh?a=1&b=x%26y&sha256=" + HEX);
        assertThat(ContentAddress.withParameter(URI.create("https://h/c.sh?a=1&"), "sha256", HEX))
                .hasToString("https://h/c.sh?a=1&sha256=" + HEX);
        assertThat(ContentAddress.withParameter(URI.create("https://h/c.sh?"), "k", "v")).hasToString("https://h/c.sh?k=v");
    }

    @Test
    void nameAndValue_areEncoded_andTheFragmentAndAnEmptyPathKept() {
        assertThat(ContentAddress.withParameter(URI.create("http://h/c.sh#top"), "a b", "x&y=z/é"))
                .hasToString("http://h/c.sh?a+b=x%26y%3Dz%2F%C3%A9#top");
        assertThat(ContentAddress.withParameter(URI.create("http://h"), "k", "v")).hasToString("http://h/?k=v");
        assertThatThrownBy(() -> ContentAddress.withParameter(URI.create("mailto:x@h"), "k", "v"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void onlyPlainHttpAndHttpsWithoutAQuery_areAddressed() {
        assertThat(ContentAddress.applies(URI.create("http://h/c.sh"))).isTrue();
        assertThat(ContentAddress.applies(URI.create("HTTPS://h/c.sh"))).isTrue();
        assertThat(ContentAddress.applies(URI.create("https://h/c.sh?X-Amz-Signature=x"))).isFalse();
        assertThat(ContentAddress.applies(URI.create("file:///srv/c.sh"))).isFalse();
        assertThat(ContentAddress.applies(URI.create("s3://bucket/c.sh"))).isFalse();
        assertThat(ContentAddress.applies(URI.create("gs://bucket/c.sh"))).isFalse();
    }
}
