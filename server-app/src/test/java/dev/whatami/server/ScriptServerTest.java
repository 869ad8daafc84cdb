package dev.whatami.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScriptServerTest {
    @TempDir
    Path dir;
    private ScriptServer server;
    private final HttpClient http = HttpClient.newHttpClient();
    private Path root;

    @BeforeEach
    void start() throws Exception {
        root = Files.createDirectories(dir.resolve("www/scriptserver"));
        Files.writeString(root.resolve("collector.pl"), "#!/usr/bin/perl\nprint \"collector\\n\";\n");
        Files.writeString(root.resolve(".htpasswd"), "admin:secret");
        Files.createDirectories(root.resolve(".git"));
        Files.writeString(root.resolve(".git/config"), "[core]");
        Files.createDirectories(root.resolve("sub"));
        Files.writeString(root.resolve("sub/inner.sh"), "echo inner\n");
        Files.writeString(dir.resolve("outside.txt"), "OUTSIDE-SECRET");
        Files.createSymbolicLink(root.resolve("escape.sh"), dir.resolve("outside.txt"));
        Files.createSymbolicLink(root.resolve("alias.pl"), root.resolve("collector.pl"));
        server = ScriptServer.builder(root).bind("127.0.0.1").port(0).build().start();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.uri() + path));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void script_isServedAsTextWithValidators() throws Exception {
        HttpResponse<String> r = get("/scriptserver/collector.pl");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(Files.readString(root.resolve("collector.pl")));
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/x-perl;charset=utf-8");
        assertThat(r.headers().firstValue("ETag")).isPresent();
        assertThat(r.headers().firstValue("Last-Modified")).isPresent();
        assertThat(r.headers().firstValue("Server")).isEmpty();

        HttpResponse<String> again = get("/scriptserver/collector.pl", "If-None-Match",
                r.headers().firstValue("ETag").orElseThrow());
        assertThat(again.statusCode()).isEqualTo(304);
        assertThat(again.body()).isEmpty();
    }

    @Test
    void range_getsTheRightSlice() throws Exception {
        HttpResponse<String> r = get("/scriptserver/collector.pl", "Range", "bytes=2-5");
        assertThat(r.statusCode()).isEqualTo(206);
        assertThat(r.body()).isEqualTo("/usr");
    }

    @Test
    void subdirectoryAndSymlinkInsideRoot_areServed() throws Exception {
        assertThat(get("/scriptserver/sub/inner.sh").body()).isEqualTo("echo inner\n");
        assertThat(get("/scriptserver/alias.pl").statusCode()).isEqualTo(200);
    }

    @Test
    void listing_isOffByDefault() throws Exception {
        assertThat(get("/scriptserver/").statusCode()).isIn(403, 404);
        assertThat(get("/scriptserver/").body()).doesNotContain("collector.pl");
    }

    @Test
    void health() throws Exception {
        assertThat(get("/healthz").body()).isEqualTo("ok\n");
    }

    @Test
    void metadataPaths_are404WithoutTheEmulator() throws Exception {
        assertThat(get("/latest/user-data").statusCode()).isEqualTo(404);
    }

    /** Sent raw over a socket so no client normalises the path first. */
    @ParameterizedTest
    @ValueSource(strings = {
        "/scriptserver/../outside.txt", "/scriptserver/../../etc/passwd", "/scriptserver/%2e%2e/outside.txt",
        "/scriptserver/%2E%2E/outside.txt", "/scriptserver/.%2e/outside.txt", "/scriptserver/%2e./outside.txt",
        "/scriptserver/%252e%252e/outside.txt", "/scriptserver/..%2foutside.txt", "/scriptserver/..%2Foutside.txt",
        "/scriptserver/%2e%2e%2foutside.txt", "/scriptserver/sub/../../outside.txt",
        "/scriptserver/sub/%2e%2e/%2e%2e/outside.txt", "/scriptserver/..\\outside.txt",
        "/scriptserver/..%5coutside.txt", "/scriptserver/%5c..%5coutside.txt", "/scriptserver/escape.sh",
        "/scriptserver/.htpasswd", "/scriptserver/%2ehtpasswd", "/scriptserver/.git/config",
        "/scriptserver/%2egit/config", "/scriptserver/sub/../.htpasswd", "/scriptserver//../outside.txt",
        "/scriptserver/./../outside.txt", "/scriptserver/%00../outside.txt", "/scriptserver/..;/outside.txt",
        "/scriptserver/;/../outside.txt", "/scriptserver/%c0%ae%c0%ae/outside.txt",
        "/scriptserver/..%c0%af/outside.txt", "/scriptserver/....//outside.txt", "/scriptserver/%u002e%u002e/outside.txt",
        "/scriptserver/escape.sh%00.pl", "/scriptserver/.%2e/.%2e/etc/passwd",
    })
    void traversalAndHiddenFiles_neverServeContent(String path) throws Exception {
        String response = raw("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        String status = response.lines().findFirst().orElse("");
        assertThat(status).matches("HTTP/1.1 (400|403|404) .*");
        assertThat(response).doesNotContain("OUTSIDE-SECRET").doesNotContain("admin:secret")
                .doesNotContain("[core]").doesNotContain("root:");
    }

    private String raw(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", server.address().getPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}
