package dev.whatami.boot;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.emulator.MetadataEmulator;
import dev.whatami.metadata.MetadataClient;
import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import dev.whatami.status.TaskState;
import dev.whatami.status.TaskStatus;
import dev.whatami.status.Trust;
import dev.whatami.testsupport.FakeTime;
import dev.whatami.testsupport.TestHttpServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Content-addressed URLs through the whole boot: a user-data line that pins its script's sha256 asks the file server
 * for {@code <url>?sha256=<hex>} (the version a cache in front keeps for good), a line without a pin asks by name,
 * and a server that no longer has the pinned version makes the task refused, saying so.
 */
class ContentAddressBootTest {
    private static final byte[] COLLECTOR = "#!/bin/sh\necho collector >> \"$MARKER\"\n".getBytes(UTF_8);
    private static final byte[] WEB = "#!/bin/sh\necho web >> \"$MARKER\"\n".getBytes(UTF_8);

    @TempDir
    Path dir;
    private final FakeTime time = new FakeTime();

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** Answers as whatami-server does: {@code ?sha256=} only while the file is that version, else 404. */
    private static void serve(TestHttpServer files, String path, byte[] content) throws Exception {
        String current = sha256(content);
        files.route(path, ex -> {
            String query = ex.getRequestURI().getRawQuery();
            if (query != null && query.startsWith("sha256=") && !query.equals("sha256=" + current)) {
                TestHttpServer.respond(ex, 404, "this file's sha256 is not it (it has changed); fetch it by name\n"
                        .getBytes(UTF_8), Map.of("Cache-Control", "no-store"));
            } else {
                TestHttpServer.respond(ex, 200, content, Map.of("Cache-Control", query == null ? "no-cache"
                        : "public, max-age=31536000, immutable"));
            }
        });
    }

    private RunStatus boot(String userData) throws Exception {
        try (MetadataEmulator imds = MetadataEmulator.builder().instanceId("i-addressed").userData(userData)
                .clock(time).start();
             MetadataClient metadata = MetadataClient.builder().endpoint(imds.endpoint()).clock(time)
                     .sleeper(time::sleep).build()) {
            return Boot.builder(metadata).stateDir(dir.resolve("state")).logDir(dir.resolve("log")).bootId("boot-1")
                    .environment(Map.of("PATH", System.getenv("PATH"), "MARKER", dir.resolve("ran").toString()))
                    .clock(time).sleeper(time::sleep).fetchReadTimeout(Duration.ofSeconds(5)).build().run();
        }
    }

    private static String line(TestHttpServer.Request r) {
        return r.method() + " " + r.path() + (r.query() == null ? "" : "?" + r.query());
    }

    @Test
    void aPinnedLine_asksForTheContentAddress_andALineWithoutAPin_asksByName() throws Exception {
        try (TestHttpServer files = TestHttpServer.start()) {
            serve(files, "/scriptserver/collector.sh", COLLECTOR);
            serve(files, "/scriptserver/web.sh", WEB);
            String server = "127.0.0.1:" + files.port();

            RunStatus run = boot("collector.sh " + server + " sha256=" + sha256(COLLECTOR).toUpperCase() + "\n"
                    + files.uri("/scriptserver/web.sh") + "\n");

            assertThat(run.state()).as(run.message().orElse("")).isEqualTo(RunState.DONE);
            assertThat(files.requests()).extracting(ContentAddressBootTest::line).containsExactly(
                    "GET /scriptserver/collector.sh?sha256=" + sha256(COLLECTOR), "GET /scriptserver/web.sh");
            assertThat(run.tasks()).extracting(TaskStatus::trust).containsExactly(java.util.Optional.of(Trust.PIN),
                    java.util.Optional.of(Trust.NONE));
            assertThat(run.tasks().get(0).source()).as("the status names the URL, not the address")
                    .hasValue("http://" + server + "/scriptserver/collector.sh");
            assertThat(Files.readString(dir.resolve("ran"))).isEqualTo("collector\nweb\n");
        }
    }

    @Test
    void aServerWithoutThePinnedVersion_refusesTheTask_sayingTheServerHasNoSuchVersion() throws Exception {
        try (TestHttpServer files = TestHttpServer.start()) {
            serve(files, "/scriptserver/collector.sh", WEB); // replaced on the server; the user-data pins the old one

            RunStatus run = boot(files.uri("/scriptserver/collector.sh") + " sha256=" + sha256(COLLECTOR) + "\n");

            assertThat(run.state()).isEqualTo(RunState.REFUSED);
            TaskStatus task = run.tasks().get(0);
            assertThat(task.state()).isEqualTo(TaskState.REFUSED);
            assertThat(task.message().orElse("")).contains("its sha256 is " + sha256(WEB) + " but the user-data pins "
                    + sha256(COLLECTOR)).contains("The server does not have the version with sha256 "
                    + sha256(COLLECTOR) + ": it answered HTTP 404 to its content-addressed URL");
            assertThat(files.requests()).extracting(ContentAddressBootTest::line).containsExactly(
                    "GET /scriptserver/collector.sh?sha256=" + sha256(COLLECTOR), "GET /scriptserver/collector.sh");
            assertThat(dir.resolve("ran")).doesNotExist();
        }
    }
}
