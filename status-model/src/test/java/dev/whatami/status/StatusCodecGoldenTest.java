package dev.whatami.status;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * The status document's shape is pinned by files: {@code golden/v1/} holds what the agent and server wrote before
 * the typed model (read, never written again); {@code golden/v2/} what the codec writes now. Regenerate v2 on purpose
 * with {@code -Dwhatami.golden.update=true} and review the diff.
 */
class StatusCodecGoldenTest {
    private static final Path GOLDEN = Path.of("src/test/resources/golden");
    private static final StatusCodec CODEC = StatusCodec.create();

    static Stream<String> v1Files() {
        return Stream.of("done", "skipped", "failed", "invalid", "unreachable", "fetchfailed", "refused");
    }

    @ParameterizedTest
    @MethodSource("v1Files")
    void v1StatusFile_isReadAndRewrittenAsV2(String name) throws IOException {
        RunStatus status = CODEC.read(Files.readAllBytes(GOLDEN.resolve("v1/status-" + name + ".json")));
        byte[] written = CODEC.write(status);
        Path golden = GOLDEN.resolve("v2/status-" + name + ".json");
        if (Boolean.getBoolean("whatami.golden.update")) {
            Files.createDirectories(golden.getParent());
            Files.write(golden, written);
        }
        assertThat(new String(written, StandardCharsets.UTF_8)).isEqualTo(Files.readString(golden));
        // and v2 reads back to the same document
        assertThat(CODEC.read(written)).isEqualTo(status);
    }

    @Test
    void v1Failed_keepsEveryField() throws IOException {
        RunStatus s = CODEC.read(Files.readAllBytes(GOLDEN.resolve("v1/status-failed.json")));
        assertThat(s.state()).isEqualTo(RunState.FAILED);
        assertThat(s.exitCode()).hasValue(1);
        assertThat(s.instance().orElseThrow().instanceId()).isEqualTo("iid-local");
        assertThat(s.instance().orElseThrow().provider()).isEqualTo("nocloud");
        assertThat(s.tasks()).extracting(TaskStatus::name).containsExactly("ok.sh", "bad.sh");
        TaskStatus bad = s.task("bad.sh").orElseThrow();
        assertThat(bad.state()).isEqualTo(TaskState.FAILED);
        assertThat(bad.exitCode()).hasValue(3);
        assertThat(bad.attempt()).isEqualTo(1);
        assertThat(bad.trust()).hasValue(Trust.NONE);
        assertThat(bad.size()).hasValue(42);
        assertThat(bad.startedAt()).hasValue(Instant.parse("2026-12-02T00:13:23.067602649Z"));
        assertThat(bad.stderrLog()).hasValue("/tmp/golden/l/bad.sh.err");
        assertThat(bad.message()).hasValue("task bad.sh exited 3; see /tmp/golden/l/bad.sh.err");
    }

    @Test
    void v1FetchFailedTask_readsAsNotFetched_andInvalidKeepsItsProblems() throws IOException {
        RunStatus fetch = CODEC.read(Files.readAllBytes(GOLDEN.resolve("v1/status-fetchfailed.json")));
        assertThat(fetch.tasks().get(0).state()).isEqualTo(TaskState.NOT_FETCHED);
        assertThat(fetch.exitCode()).hasValue(4);
        RunStatus invalid = CODEC.read(Files.readAllBytes(GOLDEN.resolve("v1/status-invalid.json")));
        assertThat(invalid.state()).isEqualTo(RunState.INVALID);
        assertThat(invalid.problems()).singleElement().satisfies(p -> {
            assertThat(p.line()).isEqualTo(1);
            assertThat(p.column()).isEqualTo(7);
            assertThat(p.text()).isEqualTo("127.0.0.1:99999");
        });
    }

    @Test
    void v1StoredReport_isReadWithWhenAndFrom() throws IOException {
        ReceivedReport r = CODEC.readReceived(Files.readAllBytes(GOLDEN.resolve("v1/stored-report.json")));
        assertThat(r.from()).isEqualTo("127.0.0.1");
        assertThat(r.receivedAt()).isEqualTo(Instant.parse("2026-12-02T00:13:21.623357127Z"));
        assertThat(r.status().state()).isEqualTo(RunState.DONE);
        assertThat(r.status().tasks()).extracting(TaskStatus::state).containsExactly(TaskState.SKIPPED);
        byte[] written = CODEC.write(r);
        Path golden = GOLDEN.resolve("v2/stored-report.json");
        if (Boolean.getBoolean("whatami.golden.update")) {
            Files.write(golden, written);
        }
        assertThat(new String(written, StandardCharsets.UTF_8)).isEqualTo(Files.readString(golden));
        assertThat(CODEC.readReceived(written)).isEqualTo(r);
    }

    @Test
    void v2FullDocument_roundTripsEveryField() throws IOException {
        RunStatus full = CODEC.read(Files.readAllBytes(GOLDEN.resolve("v2/status-full.json")));
        assertThat(new String(CODEC.write(full), StandardCharsets.UTF_8))
                .isEqualTo(Files.readString(GOLDEN.resolve("v2/status-full.json")));
        TaskStatus t = full.tasks().get(0);
        assertThat(t.tail().orElseThrow().stderr()).containsExactly("about to fail");
        assertThat(t.firstFailure().orElseThrow().outcome()).isEqualTo(TaskState.NOT_FETCHED);
        assertThat(t.history()).extracting(TaskEvent::outcome)
                .containsExactly(TaskState.NOT_FETCHED, TaskState.FAILED);
        assertThat(full.runId()).hasValue("r-5f2c9a7e-1");
        assertThat(full.revision()).isEqualTo(7);
        assertThat(List.of(full.state(), t.state())).containsExactly(RunState.FAILED, TaskState.FAILED);
    }
}
