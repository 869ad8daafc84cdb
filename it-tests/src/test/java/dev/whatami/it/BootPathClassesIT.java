package dev.whatami.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.testsupport.Ports;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A guard for boot latency that is not a timed test: it counts the classes the shipped agent loads on its boot
 * path (-Xlog:class+load) and fails past a checked-in budget, or if the TLS stack starts for plain http.
 */
class BootPathClassesIT {
    @TempDir
    Path dir;

    @Test
    void bootPath_staysWithinItsClassBudget_andNeverStartsTls() throws Exception {
        Properties budget = new Properties();
        try (InputStream in = getClass().getResourceAsStream("/boot-path-budget.properties")) {
            budget.load(in);
        }
        Path root = Files.createDirectories(dir.resolve("www"));
        Files.writeString(root.resolve("hello.sh"), "#!/bin/sh\necho hello\n");
        int port = Ports.free();
        try (Jars.Server ignored = new Jars.Server("--root", root.toString(), "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--imds-v2-required", "--metadata-user-data-text",
                "hello.sh 127.0.0.1:" + port)) {
            Path log = dir.resolve("classes.log");
            Jars.Result r = Jars.runWithJvmFlags(Jars.AGENT, List.of("-Xlog:class+load=info:file=" + log),
                    "run", "--provider", "ec2", "--metadata-endpoint", "http://127.0.0.1:" + port, "--state-dir",
                    dir.resolve("state").toString(), "--log-dir", dir.resolve("log").toString());
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            List<String> classes = Files.readAllLines(log).stream().filter(l -> l.contains("[class,load]"))
                    .map(l -> l.substring(l.indexOf("] ", l.indexOf("[class,load]")) + 2).split(" ")[0]).toList();
            int max = Integer.parseInt(budget.getProperty("max.classes"));
            System.out.println("boot path loaded " + classes.size() + " classes (budget " + max + ")");
            assertThat(classes.size()).as("classes loaded on the boot path; if this grew on purpose, raise "
                    + "max.classes in boot-path-budget.properties").isLessThanOrEqualTo(max);
            List<String> forbidden = Arrays.asList(budget.getProperty("forbidden.prefixes").split(","));
            assertThat(classes).as("TLS classes on a plain-http boot").noneMatch(c -> forbidden.stream()
                    .anyMatch(c::startsWith));
        }
    }

    /**
     * What the launcher gets: the AppCDS archive from install's training run (`install --cds-only`, what
     * `whatami-agent cds` runs) really holds the boot path: the agent's own classes, HttpClient's, SLF4J's. (picocli's
     * model is no longer on it: {@code run} with plain flags parses them itself.)
     */
    @Test
    void installedArchive_holdsTheBootPath() throws Exception {
        Path jar = Jars.AGENT.toAbsolutePath().normalize(); // an archive fits the jar path it was dumped with
        Path archive = dir.resolve("cds/agent.jsa");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Jars.Result install = Jars.run(jar, "install", "--cds-only", "--jar", jar.toString(), "--java", java,
                "--cds-archive", archive.toString());
        assertThat(install.exitCode()).as(install.stderr()).isZero();
        assertThat(install.stdout()).contains("built the AppCDS archive " + archive);
        assertThat(archive).isRegularFile();
        try (var siblings = Files.list(archive.getParent())) {
            assertThat(siblings).containsExactly(archive); // no half-dumped .part left
        }

        Path root = Files.createDirectories(dir.resolve("www"));
        Files.writeString(root.resolve("hello.sh"), "#!/bin/sh\necho hello\n");
        int port = Ports.free();
        try (Jars.Server ignored = new Jars.Server("--root", root.toString(), "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--metadata-user-data-text", "hello.sh 127.0.0.1:" + port)) {
            Path log = dir.resolve("shared.log");
            // -Xshare:on: the JVM refuses to start if the archive does not fit this JVM and jar
            Jars.Result r = Jars.runWithJvmFlags(jar, List.of("-XX:+UseSerialGC", "-XX:SharedArchiveFile=" + archive,
                    "-Xshare:on", "-Xlog:class+load=info:file=" + log), "run", "--provider", "ec2",
                    "--metadata-endpoint", "http://127.0.0.1:" + port, "--state-dir", dir.resolve("state2").toString(),
                    "--log-dir", dir.resolve("log2").toString());
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            assertThat(r.stdout()).contains("[hello.sh] hello");
            List<String> lines = Files.readAllLines(log).stream().filter(l -> l.contains("[class,load]")).toList();
            List<String> shared = lines.stream().filter(l -> l.contains("source: shared objects file")).toList();
            // (its exception type is linked with RunCommand, but no model is built)
            assertThat(lines).as("a plain boot builds no picocli model").noneMatch(l -> l.contains(" picocli.CommandLine ")
                    || l.contains(" picocli.CommandLine$Model"));
            for (String c : List.of("dev.whatami.agent.cli.RunCommand ", "dev.whatami.boot.internal.BootRun ",
                    "org.apache.hc.client5.http.impl.classic.HttpClientBuilder ", "org.slf4j.LoggerFactory ")) {
                assertThat(shared).as(c + "from the archive").anyMatch(l -> l.contains(" " + c));
            }
            System.out.println("boot path: " + shared.size() + " of " + lines.size() + " classes from the archive");
            assertThat(shared.size()).as("classes from the archive").isGreaterThan(lines.size() * 9 / 10);
        }
    }
}
