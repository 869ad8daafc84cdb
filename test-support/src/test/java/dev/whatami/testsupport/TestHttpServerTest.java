package dev.whatami.testsupport;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.testsupport.TestHttpServer.Fault;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TestHttpServerTest {
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private HttpResponse<String> get(URI uri) throws Exception {
        return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void routesByPath_answers404Elsewhere_andRecordsEachRequest() throws Exception {
        try (TestHttpServer s = TestHttpServer.start()) {
            s.file("/a", "aa".getBytes(UTF_8)).route("/b", ex -> TestHttpServer.respond(ex, 201,
                    ex.getRequestBody().readAllBytes(), Map.of("X-Echo", "yes")));
            assertThat(s.uri("/a").toString()).isEqualTo("http://127.0.0.1:" + s.port() + "/a");
            assertThat(get(s.uri("/a?x=1")).body()).isEqualTo("aa");
            HttpResponse<String> b = http.send(HttpRequest.newBuilder(s.uri("/b")).header("Authorization", "t")
                    .POST(HttpRequest.BodyPublishers.ofString("hi")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(b.statusCode()).isEqualTo(201);
            assertThat(b.body()).isEqualTo("hi");
            assertThat(b.headers().firstValue("X-Echo")).hasValue("yes");
            assertThat(get(s.uri("/c")).statusCode()).isEqualTo(404);
            assertThat(s.requests()).extracting(TestHttpServer.Request::method).containsExactly("GET", "POST", "GET");
            assertThat(s.requests().get(0).query()).isEqualTo("x=1");
            assertThat(s.requests("/b").get(0).header("authorization")).hasValue("t");
            assertThat(s.requests("/b").get(0).bodyText()).isEqualTo("hi");
            assertThat(s.hits("/a")).isEqualTo(1);
            assertThat(s.hits()).isEqualTo(3);
        }
    }

    @Test
    void faults_answerTheNextNRequests_inTheOrderQueued_thenTheRouteAnswers() throws Exception {
        try (TestHttpServer s = TestHttpServer.start()) {
            s.file("/f", "ok".getBytes(UTF_8)).fault("/f", 2, Fault.status(503))
                    .fault("/f", 1, Fault.status(429, Map.of("Retry-After", "1")));
            assertThat(get(s.uri("/f")).statusCode()).isEqualTo(503);
            assertThat(get(s.uri("/f")).statusCode()).isEqualTo(503);
            HttpResponse<String> busy = get(s.uri("/f"));
            assertThat(busy.statusCode()).isEqualTo(429);
            assertThat(busy.headers().firstValue("Retry-After")).hasValue("1");
            assertThat(get(s.uri("/f")).body()).isEqualTo("ok");
        }
    }

    @Test
    void aCutAnswer_announcesTheWholeBody_andSendsHalf() throws Exception {
        try (TestHttpServer s = TestHttpServer.start()) {
            s.file("/f", new byte[1000]).fault("/f", 1, Fault.cut()).fault("/f", 1, Fault.cutAfter(10));
            for (int sent : new int[] {500, 10}) {
                HttpURLConnection c = (HttpURLConnection) s.uri("/f").toURL().openConnection();
                c.setReadTimeout(10_000); // a cut is seen at once; this only keeps a broken one from hanging
                assertThat(c.getContentLengthLong()).isEqualTo(1000);
                byte[] buf = new byte[2000];
                int n = 0;
                try (InputStream in = c.getInputStream()) {
                    for (int r; (r = in.read(buf, n, buf.length - n)) > 0; ) {
                        n += r;
                    }
                } catch (java.net.SocketTimeoutException silent) {
                    throw new AssertionError("the connection was left open and silent, not cut", silent);
                } catch (IOException cut) {
                    // the connection closed short of the length
                }
                assertThat(n).isEqualTo(sent);
            }
            assertThat(get(s.uri("/f")).body()).hasSize(1000);
        }
    }

    @Test
    void aDroppedAnswer_closesTheConnectionUnanswered() {
        try (TestHttpServer s = TestHttpServer.start()) {
            s.file("/f", "ok".getBytes(UTF_8)).fault("/f", 1, Fault.drop());
            // a POST: the JDK's client would send a GET again on a closed connection
            assertThatThrownBy(() -> http.send(HttpRequest.newBuilder(s.uri("/f"))
                    .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString()))
                    .isInstanceOf(IOException.class);
            assertThat(s.hits("/f")).isEqualTo(1);
        }
    }

    @Test
    void aHangingAnswer_neverComes_andADelayedOneComesLate() throws Exception {
        try (TestHttpServer s = TestHttpServer.start()) {
            s.file("/f", "ok".getBytes(UTF_8)).fault("/f", 1, Fault.hang()).fault("/f", 1,
                    Fault.delay(Duration.ofMillis(300)));
            HttpRequest r = HttpRequest.newBuilder(s.uri("/f")).timeout(Duration.ofMillis(200)).build();
            assertThatThrownBy(() -> http.send(r, HttpResponse.BodyHandlers.ofString()))
                    .isInstanceOf(java.net.http.HttpTimeoutException.class);
            long started = System.nanoTime();
            assertThat(get(s.uri("/f")).body()).isEqualTo("ok");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        }
    }

    @Test
    void aDribbledBody_arrivesWhole_inItsOwnTime() throws Exception {
        try (TestHttpServer s = TestHttpServer.start()) {
            s.file("/f", "abcd".getBytes(UTF_8)).fault("/f", 1, Fault.dribble(1, Duration.ofMillis(50)));
            long started = System.nanoTime();
            assertThat(get(s.uri("/f")).body()).isEqualTo("abcd");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(150));
        }
    }

    @Test
    void aWriteToAConnectionTheClientClosed_isAFailureTheTestCanAwait() throws Exception {
        try (TestHttpServer s = TestHttpServer.start()) {
            s.file("/f", new byte[10_000]).fault("/f", 1, Fault.dribble(1, Duration.ofMillis(20)));
            assertThat(s.awaitFailure(Duration.ofMillis(50))).isFalse();
            try (java.net.Socket client = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), s.port())) {
                client.getOutputStream().write("GET /f HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(UTF_8));
                assertThat(client.getInputStream().read()).isEqualTo('H'); // the head, then the body's first bytes
            }
            assertThat(s.awaitFailure(Duration.ofSeconds(10))).isTrue();
            assertThat(s.failures()).hasSize(1);
        }
    }

    @Test
    void aServerNotYetListening_refuses_untilItListens() throws Exception {
        try (TestHttpServer s = TestHttpServer.notYetListening()) {
            s.file("/f", "ok".getBytes(UTF_8));
            URI at = s.uri("/f");
            assertThat(s.listening()).isFalse();
            assertThatThrownBy(() -> get(at)).isInstanceOf(ConnectException.class);
            s.listen();
            assertThat(s.uri("/f")).isEqualTo(at);
            assertThat(get(at).body()).isEqualTo("ok");
        }
        assertThatThrownBy(() -> get(TestHttpServer.nothingListening("/x"))).isInstanceOf(ConnectException.class);
    }
}
