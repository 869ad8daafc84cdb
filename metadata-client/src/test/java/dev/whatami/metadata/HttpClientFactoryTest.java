package dev.whatami.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.testsupport.TestHttpServer;
import java.util.Map;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.junit.jupiter.api.Test;

/** What every request of a client from {@link HttpClientFactory} carries, as a server on loopback sees it. */
class HttpClientFactoryTest {
    @Test
    void everyRequest_saysItIsWhatami_andAsksForNoCompression() throws Exception {
        try (TestHttpServer server = TestHttpServer.start().answer("/x", 204, new byte[0], Map.of());
             CloseableHttpClient http = HttpClientFactory.builder().build()) {
            for (int i = 0; i < 2; i++) {
                int code = http.execute(new HttpGet(server.uri("/x")), r -> r.getCode());
                assertThat(code).isEqualTo(204);
            }
            assertThat(server.requests()).extracting(r -> String.valueOf(r.headers().get("User-Agent")))
                    .containsExactly("[whatami]", "[whatami]");
            assertThat(server.requests()).extracting(r -> String.valueOf(r.headers().get("Accept-Encoding")))
                    .containsOnly("null");
        }
    }
}
