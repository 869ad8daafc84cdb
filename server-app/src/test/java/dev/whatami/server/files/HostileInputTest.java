package dev.whatami.server.files;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.server.ScriptServer;
import dev.whatami.server.reports.ReportStore;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Listings show only what can be served; uploads onto directories and long names get a 4xx
 * that names no server path; the temp files of a killed server do not stay for ever; a report with anything after
 * its JSON is refused; and no error page shows a server path.
 */
class HostileInputTest {
    private static final String TOKEN = "Bearer upload-token-1";

    @TempDir
    Path dir;
    private Path root;
    private ScriptServer server;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private void start(ScriptServer.Builder b) throws Exception {
        server = b.build().start();
    }

    private ScriptServer.Builder builder() throws Exception {
        root = Files.createDirectories(dir.resolve("www"));
        return ScriptServer.builder(root).bind("127.0.0.1").port(0).uploadToken("upload-token-1");
    }

    private HttpResponse<String> send(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.uri() + path)).header("Authorization", TOKEN)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void listing_showsOnlyWhatCanBeServed() throws Exception {
        ScriptServer.Builder b = builder().list(true);
        Files.writeString(root.resolve("collector.pl"), "print 1;\n");
        Files.writeString(root.resolve(".htpasswd"), "admin:x");
        Files.createDirectories(root.resolve(".git"));
        Files.writeString(root.resolve(".git/config"), "[core]");
        Files.writeString(root.resolve(UploadHandler.TEMP_PREFIX + "1234.tmp"), "half an upload");
        Files.createDirectories(root.resolve("sub"));
        Files.writeString(root.resolve("sub/inner.sh"), "echo\n");
        Files.writeString(dir.resolve("outside.txt"), "secret");
        Files.createDirectories(dir.resolve("outside-dir"));
        Files.createSymbolicLink(root.resolve("escape.sh"), dir.resolve("outside.txt"));
        Files.createSymbolicLink(root.resolve("escape-dir"), dir.resolve("outside-dir"));
        Files.createSymbolicLink(root.resolve("dangling.sh"), dir.resolve("nothing-here"));
        Files.createSymbolicLink(root.resolve("alias.pl"), root.resolve("collector.pl"));
        Files.writeString(root.resolve("<b>odd&name.sh"), "echo\n");
        start(b);

        HttpResponse<String> listing = send("GET", "/scriptserver/", null);
        assertThat(listing.statusCode()).isEqualTo(200);
        assertThat(listing.body()).contains(">collector.pl<").contains(">sub/<").contains(">alias.pl<")
                .contains("&lt;b&gt;odd&amp;name.sh").doesNotContain("<b>odd")
                .doesNotContain(".htpasswd").doesNotContain(".git").doesNotContain("whatami-upload")
                .doesNotContain("escape").doesNotContain("dangling").doesNotContain(dir.toString());
        assertThat(send("GET", "/scriptserver/sub/", null).body()).contains(">inner.sh<").contains("../");
        // what is listed can be fetched; what is not, cannot
        assertThat(send("GET", "/scriptserver/alias.pl", null).statusCode()).isEqualTo(200);
        assertThat(send("GET", "/scriptserver/escape-dir/", null).statusCode()).isIn(403, 404);
        assertThat(send("GET", "/scriptserver/" + UploadHandler.TEMP_PREFIX + "1234.tmp", null).statusCode())
                .isEqualTo(404);
    }

    @Test
    void putAndDelete_ontoADirectory_are409_namingNoServerPath() throws Exception {
        ScriptServer.Builder b = builder();
        Files.createDirectories(root.resolve("sub"));
        Files.writeString(root.resolve("sub/inner.sh"), "echo\n");
        start(b);
        HttpResponse<String> put = send("PUT", "/scriptserver/sub", "echo\n");
        assertThat(put.statusCode()).isEqualTo(409);
        assertThat(put.body()).isEqualTo("/scriptserver/sub is a directory; PUT names a file\n");
        HttpResponse<String> delete = send("DELETE", "/scriptserver/sub", null);
        assertThat(delete.statusCode()).isEqualTo(409);
        assertThat(delete.body()).isEqualTo("/scriptserver/sub is a directory; DELETE names a file\n");
        assertThat(root.resolve("sub/inner.sh")).exists();
        try (Stream<Path> files = Files.list(root)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("sub");
        }
    }

    @Test
    void longNames_255CharactersAreStored_longerAre400_neverA500() throws Exception {
        start(builder());
        String name255 = "a".repeat(252) + ".sh";
        HttpResponse<String> ok = send("PUT", "/scriptserver/" + name255, "echo long\n");
        assertThat(ok.statusCode()).isEqualTo(201);
        assertThat(send("GET", "/scriptserver/" + name255, null).body()).isEqualTo("echo long\n");
        assertThat(send("DELETE", "/scriptserver/" + name255, null).statusCode()).isEqualTo(204);

        HttpResponse<String> tooLong = send("PUT", "/scriptserver/" + "a".repeat(253) + ".sh", "echo\n");
        assertThat(tooLong.statusCode()).isEqualTo(400);
        assertThat(tooLong.body()).isEqualTo("cannot PUT /scriptserver/<name>: script name is 256 bytes long; the "
                + "limit is 255 bytes. Use a shorter file name.\n");
        assertThat(send("DELETE", "/scriptserver/" + "a".repeat(300), null).statusCode()).isEqualTo(400);
        try (Stream<Path> files = Files.list(root)) {
            assertThat(files.toList()).isEmpty();
        }
    }

    @Test
    void aKilledServersUploadTempFile_isRemovedAtTheNextStart() throws Exception {
        root = Files.createDirectories(dir.resolve("www"));
        // a real server process, killed with SIGKILL while an upload is half received
        Path token = Files.writeString(dir.resolve("upload.token"), "upload-token-1\n");
        Files.setPosixFilePermissions(token, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), "dev.whatami.server.WhatamiServer", "--root", root.toString(),
                "--bind", "127.0.0.1", "--port", "0", "--upload-token-file", token.toString()).redirectErrorStream(true)
                .start();
        try {
            String line = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8)).readLine();
            assertThat(line).contains("listening on http://127.0.0.1:");
            int port = Integer.parseInt(line.replaceAll("(?s).*listening on http://127\\.0\\.0\\.1:(\\d+).*", "$1"));
            try (Socket s = new Socket("127.0.0.1", port)) {
                OutputStream out = s.getOutputStream();
                out.write(("PUT /scriptserver/role.sh HTTP/1.1\r\nHost: x\r\nAuthorization: " + TOKEN
                        + "\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(5000)).getBytes(StandardCharsets.US_ASCII));
                out.flush();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (temps().isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertThat(temps()).hasSize(1);
                p.destroyForcibly(); // SIGKILL: nothing of the server's own cleanup runs
                assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
            }
        } finally {
            p.destroyForcibly();
        }
        List<Path> left = temps();
        assertThat(left).hasSize(1);
        Files.setLastModifiedTime(left.get(0), FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        Path fresh = Files.writeString(root.resolve(UploadHandler.TEMP_PREFIX + "beef.tmp"), "another server's");
        Path previousVersions = Files.writeString(root.resolve(".role.sh.123456.upload"), "old naming");
        Files.setLastModifiedTime(previousVersions, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        Path script = Files.writeString(root.resolve("role.sh.upload"), "a real script, not hidden");
        Files.setLastModifiedTime(script, FileTime.from(Instant.now().minus(Duration.ofHours(1))));

        server = ScriptServer.builder(root).bind("127.0.0.1").port(0).build().start();
        assertThat(left.get(0)).doesNotExist();
        assertThat(previousVersions).doesNotExist();
        assertThat(fresh).exists(); // written to within the last minutes: maybe someone's upload in progress
        assertThat(script).exists();
    }

    private List<Path> temps() throws Exception {
        List<Path> found = new ArrayList<>();
        try (Stream<Path> files = Files.list(root)) {
            files.filter(f -> UploadHandler.isTempName(f.getFileName().toString())).forEach(found::add);
        }
        return found;
    }

    @Test
    void reportTempFilesOfAKilledServer_areRemovedAtStart() throws Exception {
        Path reports = Files.createDirectories(dir.resolve("data/reports"));
        Path old = Files.writeString(reports.resolve(".report8127361.tmp"), "{\"instanceId\":");
        Files.setLastModifiedTime(old, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        Path fresh = Files.writeString(reports.resolve(".report99.tmp"), "{");
        ReportStore.persistent(dir.resolve("data"), java.time.Clock.systemUTC());
        assertThat(old).doesNotExist();
        assertThat(fresh).exists();
    }

    @Test
    void aReportWithAnythingAfterItsJson_is400() throws Exception {
        ScriptServer.Builder b = builder().reports(ReportStore.inMemory());
        start(b);
        String one = "{\"instanceId\":\"i-1\",\"state\":\"done\"}";
        for (String body : List.of(one + " trailing", one + one, one + "]")) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(server.uri() + "/reports"))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(body).isEqualTo(400);
            assertThat(r.body()).as(body).matches("the status document (has more after its JSON object \\(at byte \\d+\\)"
                    + "; send exactly one object|is not valid JSON: (Unrecognized token 'trailing'|Unexpected close marker).*)\n");
        }
        HttpResponse<String> ok = http.send(HttpRequest.newBuilder(URI.create(server.uri() + "/reports"))
                .POST(HttpRequest.BodyPublishers.ofString(one + "\n")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(ok.statusCode()).isEqualTo(204);
    }

    @Test
    void aServerError_showsNoServerPath() throws Exception {
        Path data = dir.resolve("data");
        ReportStore store = ReportStore.persistent(data, java.time.Clock.systemUTC());
        start(builder().reports(store));
        // the data directory breaks under the running server
        Files.walk(data).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        Files.writeString(data, "not a directory any more");
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(server.uri() + "/reports"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"instanceId\":\"i-1\",\"state\":\"done\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isGreaterThanOrEqualTo(500);
        assertThat(r.body()).doesNotContain(dir.toString()).doesNotContain("reports/").doesNotContain("Exception")
                .doesNotContain("at dev.whatami");
    }
}
