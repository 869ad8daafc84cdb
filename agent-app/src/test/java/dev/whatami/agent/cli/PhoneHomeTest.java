package dev.whatami.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.emulator.MetadataService;
import dev.whatami.server.reports.ReportStore;
import dev.whatami.server.ScriptServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class PhoneHomeTest {
    @TempDir
    Path dir;
    private ScriptServer server;
    private final ReportStore reports = ReportStore.inMemory();

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private int serveAndRun(String userDataTemplate, String... extra) throws Exception {
        Path root = Files.createDirectories(dir.resolve("www"));
        Files.writeString(root.resolve("role.sh"), "echo \"secret is $SECRET\"\n");
        int port = dev.whatami.testsupport.Ports.free();
        server = ScriptServer.builder(root).bind("127.0.0.1").port(port).reports(reports).reportToken("tok")
                .metadataService(MetadataService.builder().instanceId("i-home")
                        .userData(userDataTemplate.replace("SRV", "127.0.0.1:" + port)).build())
                .build().start();
        CommandLine cl = WhatamiAgent.commandLine(Map.of("PATH", System.getenv("PATH"), "WHATAMI_REPORT_TOKEN", "tok"));
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(new StringWriter(), true));
        String[] base = {"run", "--provider", "ec2", "--metadata-endpoint", server.uri().toString(), "--state-dir",
            dir.resolve("state").toString(), "--log-dir", dir.resolve("log").toString()};
        String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(base), java.util.Arrays.stream(extra)
                .map(a -> a.replace("SRV", "127.0.0.1:" + port))).toArray(String[]::new);
        return cl.execute(all);
    }

    @Test
    void reportKeyInUserData_sendsTheFinalStatus_withoutEnvValues() throws Exception {
        // the token goes with the report because the user-data names the same URL the image is configured with
        assertThat(serveAndRun("role.sh SRV env.SECRET=hunter2 report=http://SRV/reports", "--report-url",
                "http://SRV/reports")).isZero();
        List<Map<String, Object>> all = reports.all();
        assertThat(all).singleElement().satisfies(r -> {
            assertThat(r).containsEntry("instanceId", "i-home").containsEntry("state", "done")
                    .containsEntry("exitCode", 0);
            assertThat(r.toString()).contains("role.sh").doesNotContain("hunter2");
        });
    }

    @Test
    void refusedRun_isReportedToo() throws Exception {
        assertThat(serveAndRun("missing.sh SRV", "--report-url", "http://SRV/reports")).isEqualTo(4);
        assertThat(reports.all()).singleElement().satisfies(r -> assertThat(r).containsEntry("state", "not-fetched")
                .containsEntry("exitCode", 4));
    }

    @Test
    void reportServerThatNeverAnswers_doesNotHoldUpTheBoot() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            long start = System.nanoTime();
            int code = serveAndRun("role.sh SRV", "--report-url", "http://127.0.0.1:" + silent.getLocalPort()
                    + "/reports", "--report-budget", "1s");
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertThat(code).isZero();
            // one second of budget, and each call's own timeout capped by it: far below the deadlines of a boot
            assertThat(millis).isLessThan(15_000);
        }
    }

    @Test
    void reportUrlNamedByTheUserData_neverGetsTheImagesToken() throws Exception {
        // another "host" (path) than the configured one: the report goes there, the token does not
        java.util.List<String> authorizations = new java.util.concurrent.CopyOnWriteArrayList<>();
        com.sun.net.httpserver.HttpServer other = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        other.createContext("/", ex -> {
            authorizations.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
            ex.getRequestBody().readAllBytes();
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        other.start();
        try {
            assertThat(serveAndRun("role.sh SRV report=http://127.0.0.1:" + other.getAddress().getPort()
                    + "/collect", "--report-url", "http://SRV/reports")).isZero();
        } finally {
            other.stop(0);
        }
        assertThat(authorizations).isNotEmpty().allMatch(a -> a.equals("null"));
        assertThat(reports.all()).isEmpty();
    }
}
