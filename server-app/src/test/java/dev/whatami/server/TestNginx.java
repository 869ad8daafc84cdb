package dev.whatami.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Debian's nginx for tests: its own configuration, cache and logs in a temp directory (removed at close), listening on 127.0.0.1 at a
 * free port, in the foreground as a child of the test. Without nginx the test is skipped, loudly — unless
 * {@code WHATAMI_REQUIRE_NGINX=1} (as {@code .ci/run} sets), when it fails.
 */
final class TestNginx implements AutoCloseable {
    private final Process process;
    private final Path dir;
    private final int port;

    private TestNginx(Process process, Path dir, int port) {
        this.process = process;
        this.dir = dir;
        this.port = port;
    }

    static Path binary() {
        for (String p : List.of("/usr/sbin/nginx", "/usr/bin/nginx")) {
            if (Files.isExecutable(Path.of(p))) {
                return Path.of(p);
            }
        }
        return null;
    }

    /**
     * Starts nginx with {@code http} as the body of its {@code http {}} block; {@code $PORT} in it is replaced by the
     * port nginx listens on, {@code $DIR} by its directory.
     */
    static TestNginx startOrSkip(String http) throws Exception {
        Path nginx = binary();
        if (nginx == null) {
            String why = "nginx is not installed (apt-get install nginx); .ci/run installs it and sets "
                    + "WHATAMI_REQUIRE_NGINX=1";
            System.err.println("SKIPPED: " + why);
            assertThat(System.getenv("WHATAMI_REQUIRE_NGINX")).as("WHATAMI_REQUIRE_NGINX is set but " + why)
                    .isNotEqualTo("1");
            Assumptions.abort(why);
        }
        // nginx's workers run as nobody when the test runs as root: they must reach the cache and temp paths, so
        // not under a test's own (0700) temp directory
        Path dir = Files.createTempDirectory("whatami-nginx");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        int port = dev.whatami.testsupport.Ports.free();
        String conf = "daemon off;\nworker_processes 1;\npid $DIR/nginx.pid;\nerror_log $DIR/error.log warn;\n"
                + "events { worker_connections 1024; }\nhttp {\n"
                + "  log_format cache '$request $status cache=$upstream_cache_status upstream=$upstream_status';\n"
                + "  access_log $DIR/access.log cache;\n"
                + "  client_body_temp_path $DIR/body; proxy_temp_path $DIR/proxy; fastcgi_temp_path $DIR/fastcgi;\n"
                + "  uwsgi_temp_path $DIR/uwsgi; scgi_temp_path $DIR/scgi;\n"
                + http + "\n}\n";
        conf = conf.replace("$PORT", String.valueOf(port)).replace("$DIR", dir.toString());
        Path file = dir.resolve("nginx.conf");
        Files.writeString(file, conf);
        Process p = new ProcessBuilder(nginx.toString(), "-p", dir.toString(), "-c", file.toString(), "-e",
                dir.resolve("error.log").toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("nginx.out").toFile()).start();
        TestNginx running = new TestNginx(p, dir, port);
        for (int i = 0; i < 100; i++) {
            if (!p.isAlive()) {
                throw new IOException("nginx exited " + p.exitValue() + ": " + Files.readString(dir.resolve("nginx.out"))
                        + Files.readString(dir.resolve("error.log")));
            }
            try (Socket s = new Socket("127.0.0.1", port)) {
                return running;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        running.close();
        throw new IOException("nginx did not listen on 127.0.0.1:" + port + " within 5 s");
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** One line per request: request line, status, cache status, upstream status. */
    String accessLog() throws IOException {
        return Files.readString(dir.resolve("access.log"));
    }

    /**
     * The access log once it has at least {@code lines} lines: nginx writes a request's line when it finalises the
     * request, which may be just after the client has the answer. Waits at most 10 s, then returns what there is.
     */
    String accessLog(int lines) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        String log = accessLog();
        while (log.lines().count() < lines && System.nanoTime() < deadline) {
            Thread.sleep(20); // polling another process's file
            log = accessLog();
        }
        return log;
    }

    String errorLog() throws IOException {
        return Files.readString(dir.resolve("error.log"));
    }

    @Override
    public void close() throws Exception {
        process.destroy(); // SIGTERM: fast shutdown
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        try (java.util.stream.Stream<Path> all = Files.walk(dir)) {
            all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
