package dev.whatami.server.reports;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A throw-away PostgreSQL server for tests: Debian's {@code postgresql-15} (any {@code /usr/lib/postgresql/N/bin}),
 * {@code initdb} into a temp directory (as the {@code postgres} user when run as root: initdb refuses root), started by
 * {@code pg_ctl} on 127.0.0.1 at a free port, password authentication (scram-sha-256) for user {@code whatami}, fsync
 * off. It can be stopped and started again on the same port and data (a database restart). Without PostgreSQL the
 * test is skipped, loudly — unless {@code WHATAMI_REQUIRE_POSTGRES=1} (as {@code .ci/run} sets), when it fails.
 */
public final class TestPostgres implements AutoCloseable {
    public static final String USER = "whatami";

    private final Path bin;
    private final Path dir;
    private final int port;
    private final String password;
    private final boolean asPostgres;

    private TestPostgres(Path bin, Path dir, int port, String password, boolean asPostgres) {
        this.bin = bin;
        this.dir = dir;
        this.port = port;
        this.password = password;
        this.asPostgres = asPostgres;
    }

    /** Debian's server binaries, the newest version installed; or {@code $WHATAMI_PG_BIN}. */
    static Optional<Path> binaries() {
        String given = System.getenv("WHATAMI_PG_BIN");
        if (given != null && !given.isEmpty()) {
            return Optional.of(Path.of(given)).filter(b -> Files.isExecutable(b.resolve("pg_ctl")));
        }
        Path root = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(root)) {
            return versions.map(v -> v.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_ctl")))
                    .max(Comparator.comparingInt(b -> {
                        try {
                            return Integer.parseInt(b.getParent().getFileName().toString());
                        } catch (NumberFormatException e) {
                            return 0;
                        }
                    }));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** A started server, or the test skipped (failed under {@code WHATAMI_REQUIRE_POSTGRES=1}) without PostgreSQL. */
    public static TestPostgres startOrSkip() throws Exception {
        Optional<Path> bin = binaries();
        if (bin.isEmpty()) {
            String why = "PostgreSQL is not installed (no /usr/lib/postgresql/N/bin/initdb; apt-get install "
                    + "postgresql-15); .ci/run installs it and sets WHATAMI_REQUIRE_POSTGRES=1";
            System.err.println("SKIPPED: " + why);
            assertThat(System.getenv("WHATAMI_REQUIRE_POSTGRES")).as("WHATAMI_REQUIRE_POSTGRES is set but " + why)
                    .isNotEqualTo("1");
            Assumptions.abort(why);
        }
        boolean root = "root".equals(System.getProperty("user.name"));
        Path dir = Files.createTempDirectory("whatami-pg");
        byte[] secret = new byte[12];
        new SecureRandom().nextBytes(secret);
        String password = HexFormat.of().formatHex(secret);
        Path pwfile = dir.resolve("pwfile");
        Files.writeString(pwfile, password + "\n");
        if (root) {
            run(List.of("chown", "-R", "postgres:postgres", dir.toString()), dir, Optional.empty());
        }
        TestPostgres pg = new TestPostgres(bin.get(), dir, dev.whatami.testsupport.Ports.free(), password, root);
        pg.pg(List.of(bin.get().resolve("initdb").toString(), "-D", pg.data().toString(), "-U", USER,
                "--auth=scram-sha-256", "--pwfile=" + pwfile, "-E", "UTF8", "--locale=C", "--no-sync"));
        Files.delete(pwfile);
        pg.start();
        return pg;
    }

    Path data() {
        return dir.resolve("data");
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    public int port() {
        return port;
    }

    public String password() {
        return password;
    }

    /** A store on this database, with these limits. */
    public JdbcReportStore store(ReportLimits limits, java.time.Clock clock) throws IOException {
        return JdbcReportStore.builder(jdbcUrl()).user(USER).password(password).limits(limits).clock(clock).build();
    }

    /** Starts (again) on the same port and data; returns once it accepts connections. */
    public void start() throws Exception {
        pg(List.of(bin.resolve("pg_ctl").toString(), "-D", data().toString(), "-l", dir.resolve("log").toString(),
                "-w", "-t", "60", "-o", "-p " + port + " -c listen_addresses=127.0.0.1 -k " + dir
                        + " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60",
                "start"));
    }

    /** Stops at once (connections are cut, as in a crash of the clients' side of things). */
    public void stop() throws Exception {
        pg(List.of(bin.resolve("pg_ctl").toString(), "-D", data().toString(), "-m", "fast", "-w", "-t", "60",
                "stop"));
    }

    /** Removes every report, for a test that starts afresh. */
    public void truncate() throws Exception {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(jdbcUrl(), USER, password);
                java.sql.Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS whatami_reports, whatami_totals, whatami_schema");
            s.execute("DROP SEQUENCE IF EXISTS whatami_reports_kept_seq");
        }
    }

    @Override
    public void close() throws Exception {
        try {
            stop();
        } finally {
            try (Stream<Path> all = Files.walk(dir)) {
                all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private void pg(List<String> command) throws Exception {
        List<String> argv = new ArrayList<>();
        if (asPostgres) {
            argv.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        argv.addAll(command);
        run(argv, dir, Optional.of(dir.resolve("pg_ctl.out")));
    }

    private static void run(List<String> argv, Path dir, Optional<Path> out) throws Exception {
        Path log = out.orElse(Files.createTempFile(dir, "cmd", ".out"));
        Process p = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", argv) + " did not finish in 90 s");
        }
        if (p.exitValue() != 0) {
            String text = Files.readString(log, StandardCharsets.UTF_8);
            Path server = dir.resolve("log");
            if (Files.exists(server)) {
                text += "\n-- server log --\n" + Files.readString(server, StandardCharsets.UTF_8);
            }
            throw new IOException(String.join(" ", argv) + " exited " + p.exitValue() + ":\n" + text);
        }
        if (out.isEmpty()) {
            Files.deleteIfExists(log);
        }
    }
}
