package dev.whatami.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The server's tokens come from files, never its command line (where every local user reads them), and the status
 * pages and metrics are read only with the read token, or from this machine.
 */
class ServerTokensTest {
    private static final String SECRET = "tok-5f3a9c1e7d";
    @TempDir
    Path dir;
    private final HttpClient http = HttpClient.newHttpClient();

    private record Run(int exit, String out) {
    }

    private Run cli(Map<String, String> env, String... args) {
        CommandLine cl = WhatamiServer.commandLine(env);
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(out, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString());
    }

    private Path tokenFile(String name, String mode, String content) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    @Test
    void aTokenOnTheCommandLine_isRefused_withoutEchoingIt() throws Exception {
        Path root = Files.createDirectories(dir.resolve("www"));
        for (List<String> given : List.of(List.of("--upload-token", SECRET), List.of("--upload-token=" + SECRET),
                List.of("--report-token", SECRET), List.of("--read-token", SECRET))) {
            String[] args = java.util.stream.Stream.concat(java.util.stream.Stream.of("--root", root.toString(),
                    "--bind", "127.0.0.1", "--port", "0"), given.stream()).toArray(String[]::new);
            Run r = cli(Map.of(), args);
            assertThat(r.exit()).as(given.toString()).isEqualTo(2);
            assertThat(r.out()).contains("can be read by every local user").contains("--upload-token-file FILE")
                    .contains("chmod 600").doesNotContain(SECRET);
        }
    }

    @Test
    void aTokenFileOthersCanRead_isRefused_namingTheFileNotTheToken() throws Exception {
        Path root = Files.createDirectories(dir.resolve("www"));
        Path world = tokenFile("upload.token", "rw-r--r--", SECRET + "\n");
        Run r = cli(Map.of(), "--root", root.toString(), "--port", "0", "--upload-token-file", world.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.out()).contains("--upload-token-file " + world).contains("every user").contains("chmod 600 " + world)
                .doesNotContain(SECRET);

        Path empty = tokenFile("empty.token", "rw-------", "\n");
        r = cli(Map.of(), "--root", root.toString(), "--port", "0", "--report-token-file", empty.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.out()).contains("--report-token-file " + empty + " is empty");

        Path shortOne = tokenFile("short.token", "rw-------", "abc\n");
        r = cli(Map.of(), "--root", root.toString(), "--port", "0", "--read-token-file", shortOne.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.out()).contains("shorter than 8 characters").doesNotContain("abc\n");

        r = cli(Map.of(), "--root", root.toString(), "--port", "0", "--upload-token-file",
                dir.resolve("missing").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.out()).contains("does not exist");

        Path credentials = Files.createDirectories(dir.resolve("creds"));
        Files.writeString(credentials.resolve("token_upload"), SECRET);
        Files.setPosixFilePermissions(credentials.resolve("token_upload"), PosixFilePermissions.fromString("rw-rw-rw-"));
        r = cli(Map.of("CREDENTIALS_DIRECTORY", credentials.toString()), "--root", root.toString(), "--port", "0");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.out()).contains("the credential " + credentials.resolve("token_upload")).doesNotContain(SECRET);
    }

    /** A real server process: its command line holds no token, and the ones from its files (and systemd's) work. */
    @Test
    void tokensFromFilesAndSystemdCredentials_work_andNeverShowInTheProcessCommandLine() throws Exception {
        Path root = Files.createDirectories(dir.resolve("www"));
        Files.writeString(root.resolve("a.sh"), "echo a\n");
        Path upload = tokenFile("upload.token", "rw-------", SECRET + "\n");
        Path credentials = Files.createDirectories(dir.resolve("creds"));
        Files.writeString(credentials.resolve("token_read"), "read-" + SECRET + "\n");
        Files.setPosixFilePermissions(credentials.resolve("token_read"), PosixFilePermissions.fromString("r--------"));
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.whatami.server.WhatamiServer", "--root",
                root.toString(), "--bind", "127.0.0.1", "--port", "0", "--upload-token-file", upload.toString())
                .redirectErrorStream(true);
        pb.environment().put("CREDENTIALS_DIRECTORY", credentials.toString());
        Process p = pb.start();
        try {
            String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))
                    .readLine();
            assertThat(line).contains("listening on http://127.0.0.1:").contains("uploads on")
                    .contains("; read token required)").doesNotContain(SECRET);
            URI base = URI.create(line.replaceAll("(?s).*listening on (http://127\\.0\\.0\\.1:\\d+).*", "$1"));
            String cmdline = Files.readString(Path.of("/proc/" + p.pid() + "/cmdline"));
            assertThat(cmdline).contains("--upload-token-file").doesNotContain(SECRET);

            assertThat(send(base, "PUT", "/scriptserver/b.sh", "Bearer " + SECRET).statusCode()).isEqualTo(201);
            assertThat(send(base, "PUT", "/scriptserver/b.sh", "Bearer wrong-token").statusCode()).isEqualTo(401);
            assertThat(send(base, "GET", "/status", null).statusCode()).isEqualTo(401);
            assertThat(send(base, "GET", "/metrics", "Bearer read-" + SECRET).statusCode()).isEqualTo(200);
        } finally {
            p.destroyForcibly();
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void withAReadToken_statusAndMetricsNeedIt_asBearerOrBasic_andNothingElseDoes() throws Exception {
        Path root = Files.createDirectories(dir.resolve("www"));
        Files.writeString(root.resolve("a.sh"), "echo a\n");
        String token = "read-token-77";
        try (ScriptServer server = ScriptServer.builder(root).bind("127.0.0.1").port(0).reports(ReportStore.inMemory())
                .readToken(token).build().start()) {
            URI base = server.uri();
            assertThat(http.send(HttpRequest.newBuilder(base.resolve("/reports")).POST(HttpRequest.BodyPublishers
                    .ofByteArray(ReportStoreTest.report("i-1"))).build(), HttpResponse.BodyHandlers.ofString())
                    .statusCode()).isEqualTo(204);
            for (String path : List.of("/status", "/status.json", "/status.json?per=1", "/metrics")) {
                HttpResponse<String> none = send(base, "GET", path, null);
                assertThat(none.statusCode()).as(path).isEqualTo(401);
                assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v)
                        .startsWith("Basic realm=\"whatami status\""));
                assertThat(none.body()).contains("read token").doesNotContain("i-1").doesNotContain(token);
                assertThat(send(base, "GET", path, "Bearer nope-nope-nope").statusCode()).isEqualTo(401);
                assertThat(send(base, "GET", path, "Bearer " + token).statusCode()).as(path).isEqualTo(200);
                String basic = Base64.getEncoder().encodeToString(("anyone:" + token).getBytes(StandardCharsets.UTF_8));
                assertThat(send(base, "GET", path, "Basic " + basic).statusCode()).as(path).isEqualTo(200);
                assertThat(send(base, "GET", path, "Basic %%%").statusCode()).isEqualTo(401);
            }
            assertThat(send(base, "GET", "/status.json", "Bearer " + token).body()).contains("i-1");
            assertThat(send(base, "GET", "/scriptserver/a.sh", null).statusCode()).isEqualTo(200);
            assertThat(send(base, "GET", "/healthz", null).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void withoutAReadToken_thePagesAnswerLoopbackOnly_unlessPublic() throws Exception {
        assertThat(ReadAccess.fromLoopback(new InetSocketAddress("127.0.0.1", 4000))).isTrue();
        assertThat(ReadAccess.fromLoopback(new InetSocketAddress("::1", 4000))).isTrue();
        assertThat(ReadAccess.fromLoopback(new InetSocketAddress("127.9.8.7", 4000))).isTrue();
        assertThat(ReadAccess.fromLoopback(InetSocketAddress.createUnresolved("example.org", 4000))).isFalse();
        // addresses built from literals: nothing is sent to them
        assertThat(ReadAccess.fromLoopback(new InetSocketAddress("10.1.2.3", 4000))).isFalse();
        assertThat(ReadAccess.fromLoopback(new InetSocketAddress("169.254.169.254", 80))).isFalse();
        assertThat(ReadAccess.fromLoopback(new InetSocketAddress("::ffff:10.0.0.1", 80))).isFalse();
        assertThat(ReadAccess.guards(ServerMetrics.route("/status"))).isTrue();
        assertThat(ReadAccess.guards(ServerMetrics.route("/status.json"))).isTrue();
        assertThat(ReadAccess.guards(ServerMetrics.route("/metrics"))).isTrue();
        assertThat(ReadAccess.guards(ServerMetrics.route("/reports"))).isFalse();
        assertThat(ReadAccess.guards(ServerMetrics.route("/scriptserver/a.sh"))).isFalse();
        assertThat(ReadAccess.guards(ServerMetrics.route("/healthz"))).isFalse();
    }

    @Test
    void withoutAReadToken_aRequestAProxyForwardedIsNotLocal() throws Exception {
        Path root = Files.createDirectories(dir.resolve("www"));
        try (ScriptServer server = ScriptServer.builder(root).bind("127.0.0.1").port(0).reports(ReportStore.inMemory())
                .build().start()) {
            URI base = server.uri();
            assertThat(send(base, "GET", "/status", null).statusCode()).isEqualTo(200); // from loopback itself
            for (String[] header : List.of(new String[] {"X-Forwarded-For", "203.0.113.7"},
                    new String[] {"Forwarded", "for=203.0.113.7"}, new String[] {"X-Real-IP", "203.0.113.7"})) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/status.json"))
                        .header(header[0], header[1]).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(header[0]).isEqualTo(403);
                assertThat(r.body()).contains("--read-token-file");
            }
        }
        try (ScriptServer open = ScriptServer.builder(root).bind("127.0.0.1").port(0).reports(ReportStore.inMemory())
                .publicStatus(true).build().start()) {
            assertThat(http.send(HttpRequest.newBuilder(open.uri().resolve("/metrics")).header("X-Forwarded-For",
                    "203.0.113.7").build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        }
    }

    private HttpResponse<String> send(URI base, String method, String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).method(method, method.equals("PUT")
                ? HttpRequest.BodyPublishers.ofString("echo b\n") : HttpRequest.BodyPublishers.noBody());
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
