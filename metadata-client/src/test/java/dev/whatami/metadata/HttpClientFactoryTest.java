package dev.whatami.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.junit.jupiter.api.Test;

/** What every request of a client from {@link HttpClientFactory} carries, as a server on loopback sees it. */
class HttpClientFactoryTest {
    @Test
    void everyRequest_saysItIsWhatami_andAsksForNoCompression() throws Exception {
        List<String> agents = new CopyOnWriteArrayList<>();
        List<String> encodings = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            agents.add(String.valueOf(ex.getRequestHeaders().get("User-Agent")));
            encodings.add(String.valueOf(ex.getRequestHeaders().get("Accept-Encoding")));
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        server.start();
        try (CloseableHttpClient http = HttpClientFactory.builder().build()) {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/x";
            for (int i = 0; i < 2; i++) {
                int code = http.execute(new HttpGet(url), r -> r.getCode());
                assertThat(code).isEqualTo(204);
            }
        } finally {
            server.stop(0);
        }
        assertThat(agents).containsExactly("[whatami]", "[whatami]");
        assertThat(encodings).containsOnly("null");
    }
}
