package dev.whatami.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.status.InstanceInfo;
import dev.whatami.status.OutputTail;
import dev.whatami.status.ReceivedReport;
import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import dev.whatami.status.StatusCodec;
import dev.whatami.status.TaskState;
import dev.whatami.status.TaskStatus;
import dev.whatami.testsupport.FakeTime;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report store: reports go through the one codec; caps on count, per
 * instance and in all, with the least recently reported forgotten first; idempotent per instance and run; an
 * injective instance-id → file mapping; files of the previous version read.
 */
class ReportStoreTest {
    static final StatusCodec CODEC = StatusCodec.create();

    @TempDir
    Path dir;

    /** A report of {@code id}'s run {@code run}, revision {@code revision}, started at {@code start}. */
    static byte[] report(String id, String run, long revision, Instant start, RunState state, String task) {
        RunStatus.Builder b = RunStatus.builder(state).runId(run).revision(revision).startedAt(start)
                .instance(new InstanceInfo(id, "ec2", Optional.empty(), Optional.empty()));
        state.exitCode().ifPresent(c -> b.exitCode(OptionalInt.of(c)));
        if (task != null) {
            b.tasks(List.of(TaskStatus.builder(task, state == RunState.DONE ? TaskState.SUCCEEDED : TaskState.FAILED)
                    .exitCode(state == RunState.DONE ? 0 : 1).build()));
        }
        return CODEC.write(b.build());
    }

    static byte[] report(String id) {
        return report(id, "run-1", 1, Instant.parse("2026-12-02T00:00:00Z"), RunState.DONE, "collector.pl");
    }

    /** About {@code kib} KiB: many tasks with full output tails. */
    static byte[] big(String id, int kib) {
        List<TaskStatus> tasks = new ArrayList<>();
        String line = "x".repeat(250);
        int perTask = 20 * 250;
        for (int t = 0; t < kib * 1024 / perTask; t++) {
            tasks.add(TaskStatus.builder("task" + t + ".sh", TaskState.SUCCEEDED).exitCode(0)
                    .tail(new OutputTail(Collections.nCopies(20, line), List.of())).build());
        }
        return CODEC.write(RunStatus.builder(RunState.DONE).exitCode(OptionalInt.of(0)).runId("r-" + id)
                .instance(new InstanceInfo(id, "ec2", Optional.empty(), Optional.empty())).tasks(tasks).build());
    }

    private static List<String> ids(ReportStore store) throws Exception {
        return store.page(ReportQuery.all()).reports().stream()
                .map(r -> r.status().instance().orElseThrow().instanceId()).toList();
    }

    @Test
    void aRetriedPost_isNotASecondReport_aNewerRevisionIs_aLateOlderRunIsNot() throws Exception {
        ReportStore store = ReportStore.inMemory();
        Instant t0 = Instant.parse("2026-12-02T00:00:00Z");
        assertThat(store.accept(report("i-1", "run-a", 3, t0, RunState.RUNNING, "c.sh"), "10.0.0.1"))
                .isEqualTo(ReportStore.Accepted.STORED);
        assertThat(store.accept(report("i-1", "run-a", 3, t0, RunState.RUNNING, "c.sh"), "10.0.0.1"))
                .isEqualTo(ReportStore.Accepted.DUPLICATE);
        assertThat(store.accept(report("i-1", "run-a", 2, t0, RunState.RUNNING, "c.sh"), "10.0.0.1"))
                .isEqualTo(ReportStore.Accepted.DUPLICATE);
        assertThat(store.accept(report("i-1", "run-a", 4, t0, RunState.DONE, "c.sh"), "10.0.0.1"))
                .isEqualTo(ReportStore.Accepted.STORED);
        assertThat(store.accept(report("i-1", "run-b", 1, t0.plusSeconds(60), RunState.FAILED, "c.sh"), "10.0.0.1"))
                .isEqualTo(ReportStore.Accepted.STORED);
        // a retry of the first run arriving after the second: kept out
        assertThat(store.accept(report("i-1", "run-a", 5, t0, RunState.DONE, "c.sh"), "10.0.0.1"))
                .isEqualTo(ReportStore.Accepted.STALE);
        List<ReceivedReport> all = store.page(ReportQuery.all()).reports();
        assertThat(all).singleElement().satisfies(r -> {
            assertThat(r.status().runId()).hasValue("run-b");
            assertThat(r.status().state()).isEqualTo(RunState.FAILED);
            assertThat(r.from()).isEqualTo("10.0.0.1");
        });
    }

    /** A report of an agent that sends no run id and no revision (the agent before 2026-12). */
    static byte[] noRunId(String id, Instant start, RunState state) {
        RunStatus.Builder b = RunStatus.builder(state).startedAt(start)
                .instance(new InstanceInfo(id, "ec2", Optional.empty(), Optional.empty()));
        state.exitCode().ifPresent(c -> b.exitCode(OptionalInt.of(c)));
        return CODEC.write(b.build());
    }

    /**
     * Without a run id the last report replaces the kept one — but a run that has ended (the same start) does not go
     * back to running: a "running" report arriving after the final one is a late retry (ContainersIT's herd lost two
     * of ten final reports that way on a loaded machine).
     */
    static void aRunThatEnded_neverGoesBackToRunning_alsoWithoutARunId(ReportStore store) throws Exception {
        Instant t0 = Instant.parse("2026-12-02T00:00:00.123456789Z");
        assertThat(store.accept(noRunId("i-1", t0, RunState.RUNNING), "10.0.0.1")).isEqualTo(ReportStore.Accepted.STORED);
        assertThat(store.accept(noRunId("i-1", t0, RunState.RUNNING), "10.0.0.1")).isEqualTo(ReportStore.Accepted.STORED);
        assertThat(store.accept(noRunId("i-1", t0, RunState.DONE), "10.0.0.1")).isEqualTo(ReportStore.Accepted.STORED);
        assertThat(store.accept(noRunId("i-1", t0, RunState.RUNNING), "10.0.0.1"))
                .isEqualTo(ReportStore.Accepted.DUPLICATE);
        assertThat(store.page(ReportQuery.all()).reports()).singleElement()
                .satisfies(r -> assertThat(r.status().state()).isEqualTo(RunState.DONE));
        // an ended run's report still replaces (the agent re-ran), and the next boot starts afresh
        assertThat(store.accept(noRunId("i-1", t0, RunState.FAILED), "10.0.0.1")).isEqualTo(ReportStore.Accepted.STORED);
        assertThat(store.accept(noRunId("i-1", t0.plusSeconds(60), RunState.RUNNING), "10.0.0.1"))
                .isEqualTo(ReportStore.Accepted.STORED);
        assertThat(store.page(ReportQuery.all()).reports()).singleElement()
                .satisfies(r -> assertThat(r.status().state()).isEqualTo(RunState.RUNNING));
    }

    @Test
    void aRunThatEnded_neverGoesBackToRunning_alsoWithoutARunId() throws Exception {
        aRunThatEnded_neverGoesBackToRunning_alsoWithoutARunId(ReportStore.inMemory());
    }

    @Test
    void pastMaxInstances_theLeastRecentlyReportedAreForgotten_andTheirFilesDeleted() throws Exception {
        ReportStore store = ReportStore.embedded().dataDir(dir).limits(new ReportLimits(10, 256 * 1024, 64 << 20))
                .build();
        for (int i = 0; i < 25; i++) {
            store.accept(report("i-" + i), "127.0.0.1");
        }
        store.accept(report("i-3", "run-again", 1, Instant.parse("2026-12-02T01:00:00Z"), RunState.DONE, "c.sh"),
                "127.0.0.1"); // i-3 reports again: now the most recent
        assertThat(ids(store)).hasSize(10).contains("i-3", "i-24", "i-16").doesNotContain("i-0", "i-15");
        try (Stream<Path> files = Files.list(dir.resolve("reports"))) {
            assertThat(files.count()).isEqualTo(10);
        }
        // and the same after a restart
        assertThat(ids(ReportStore.persistent(dir, Clock.systemUTC()))).containsExactlyInAnyOrderElementsOf(ids(store));
    }

    @Test
    void totalBytes_areCapped_1500ReportsOf200KiB_keepTheNewestThatFit() throws Exception {
        EmbeddedReportStore store = EmbeddedReportStore.builder()
                .limits(new ReportLimits(50_000, 256 * 1024, 2L << 20)).build();
        for (int i = 0; i < 1500; i++) {
            store.accept(big("i-" + i, 200), "127.0.0.1");
            assertThat(store.totalBytes()).isLessThanOrEqualTo(2L << 20);
        }
        List<String> kept = ids(store);
        assertThat(kept).hasSizeBetween(9, 10).contains("i-1499", "i-1491").doesNotContain("i-1400", "i-0");
    }

    @Test
    void aReportLargerThanThePerInstanceCap_is413_andChangesNothing() throws Exception {
        ReportStore store = EmbeddedReportStore.builder().limits(new ReportLimits(100, 64 * 1024, 1 << 20)).build();
        store.accept(report("i-big"), "127.0.0.1");
        assertThatThrownBy(() -> store.accept(big("i-big", 100), "127.0.0.1"))
                .isInstanceOfSatisfying(ReportStore.InvalidReportException.class, e -> {
                    assertThat(e.status()).isEqualTo(413);
                    assertThat(e.getMessage()).matches("the report is \\d+ bytes as kept; this server keeps at most "
                            + "65536 bytes per instance \\(--max-report-bytes\\)");
                });
        assertThat(store.page(ReportQuery.all()).reports()).singleElement()
                .satisfies(r -> assertThat(r.status().tasks()).hasSize(1));
    }

    @Test
    void idsDifferingInOneCharacter_orOnlyInCase_neverShareAFile_andLongIdsWork() throws Exception {
        List<String> ids = new ArrayList<>(List.of("i-a/b", "i-a_b", "i-a:b", "i-A_B", ".hidden", "..", "i-\u00e9"));
        for (int n = 251; n <= 255; n++) {
            ids.add("i".repeat(n - 1) + n % 10);
        }
        ids.add("x".repeat(254) + "y");
        ids.add("x".repeat(254) + "z");
        ReportStore store = ReportStore.persistent(dir, Clock.systemUTC());
        for (String id : ids) {
            assertThat(store.accept(report(id), "127.0.0.1")).as(id).isEqualTo(ReportStore.Accepted.STORED);
        }
        ReportStore again = ReportStore.persistent(dir, Clock.systemUTC());
        assertThat(ids(again)).containsExactlyInAnyOrderElementsOf(ids);
        try (Stream<Path> files = Files.list(dir.resolve("reports"))) {
            List<String> names = files.map(p -> p.getFileName().toString()).toList();
            assertThat(names).hasSize(ids.size()).allSatisfy(n -> {
                assertThat(n).doesNotStartWith(".").endsWith(".json");
                assertThat(n.length()).isLessThanOrEqualTo(118);
            });
        }
        assertThat(EmbeddedReportStore.fileName("i-a/b")).isNotEqualTo(EmbeddedReportStore.fileName("i-a_b"));
        assertThat(EmbeddedReportStore.fileName("i-a").toLowerCase())
                .isNotEqualTo(EmbeddedReportStore.fileName("i-A").toLowerCase());
    }

    @Test
    void filesWrittenByThePreviousVersion_areRead_andRenamed() throws Exception {
        Path reports = Files.createDirectories(dir.resolve("reports"));
        Path v1 = Path.of("../status-model/src/test/resources/golden/v1/stored-report.json");
        Files.copy(v1, reports.resolve("i-0123456789abcdef0.json"));
        // the previous version's lossy names: these two ids shared one file, so only one survived
        Files.writeString(reports.resolve("i-a_b.json"), "{\"instanceId\":\"i-a/b\",\"state\":\"failed\",\"exitCode\":1,"
                + "\"receivedAt\":\"2026-12-01T10:00:00Z\",\"from\":\"10.1.1.1\"}");
        Files.writeString(reports.resolve("damaged.json"), "{\"instanceId\":");
        ReportStore store = ReportStore.persistent(dir, Clock.systemUTC());
        List<ReceivedReport> all = store.page(ReportQuery.all()).reports();
        assertThat(all).extracting(r -> r.status().instance().orElseThrow().instanceId())
                .containsExactly("i-a/b", "i-0123456789abcdef0"); // failures first
        assertThat(all.get(1).receivedAt()).isEqualTo(Instant.parse("2026-12-02T00:13:21.623357127Z"));
        assertThat(reports.resolve(EmbeddedReportStore.fileName("i-0123456789abcdef0"))).exists();
        assertThat(reports.resolve("i-0123456789abcdef0.json")).doesNotExist();
        assertThat(reports.resolve(EmbeddedReportStore.fileName("i-a/b"))).exists();
        assertThat(reports.resolve("damaged.json")).exists(); // left for the operator
    }

    @Test
    void theCounts_keepOneOrder_whateverOrderTheyWereCountedIn_soEveryServerWritesTheSamePage() {
        // Map.copyOf's order changes from one JVM to the next: two servers would write the same counts differently
        java.util.Map<String, Long> states = new java.util.LinkedHashMap<>();
        for (String s : List.of("done", "running", "unreachable", "failed", "invalid")) {
            states.put(s, (long) s.length());
        }
        java.util.Map<String, Long> reversed = new java.util.LinkedHashMap<>();
        new java.util.ArrayDeque<>(states.keySet()).descendingIterator().forEachRemaining(k -> reversed.put(k,
                states.get(k)));
        java.util.Map<String, Long> roles = java.util.Map.of("processor.pl", 2L, "collector.pl", 1L, "a+b", 3L);
        ReportPage.Counts one = new ReportPage.Counts(21, states, roles, java.util.Map.of("gce", 1L, "ec2", 2L,
                "azure", 3L), roles);
        ReportPage.Counts other = new ReportPage.Counts(21, reversed, new java.util.TreeMap<>(roles),
                new java.util.TreeMap<>(java.util.Map.of("gce", 1L, "ec2", 2L, "azure", 3L)), roles);
        for (ReportPage.Counts c : List.of(one, other)) {
            assertThat(List.copyOf(c.byState().keySet())).containsExactly("failed", "invalid", "unreachable",
                    "running", "done");
            assertThat(List.copyOf(c.byRole().keySet())).containsExactly("a+b", "collector.pl", "processor.pl");
            assertThat(List.copyOf(c.byProvider().keySet())).containsExactly("azure", "ec2", "gce");
            assertThat(List.copyOf(c.failedByRole().keySet())).containsExactly("a+b", "collector.pl", "processor.pl");
        }
        assertThat(one).isEqualTo(other);
        assertThatThrownBy(() -> one.byState().put("x", 1L)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void pages_failuresFirst_thenNewest_withFiltersAndCounts() throws Exception {
        FakeTime clock = new FakeTime(Instant.parse("2026-12-02T00:00:00Z")).ticking(Duration.ofSeconds(1));
        ReportStore store = ReportStore.embedded().clock(clock).build();
        for (int i = 0; i < 6; i++) {
            store.accept(report("c-" + i, "r", 1, clock.now(), RunState.DONE, "collector.pl"), "x");
        }
        store.accept(report("p-0", "r", 1, clock.now(), RunState.FAILED, "processor.pl"), "x");
        store.accept(report("p-1", "r", 1, clock.now(), RunState.DONE, "processor.pl"), "x");
        store.accept(report("n-0", "r", 1, clock.now(), RunState.INVALID, null), "x");

        ReportPage first = store.page(new ReportQuery(Optional.empty(), Optional.empty(), Optional.empty(), 0, 4));
        assertThat(first.matching()).isEqualTo(9);
        assertThat(first.reports()).extracting(r -> r.status().instance().orElseThrow().instanceId())
                .containsExactly("n-0", "p-0", "p-1", "c-5");
        assertThat(first.counts().instances()).isEqualTo(9);
        assertThat(first.counts().byState()).containsEntry("done", 7L).containsEntry("failed", 1L)
                .containsEntry("invalid", 1L);
        assertThat(first.counts().byRole()).containsEntry("collector.pl", 6L).containsEntry("processor.pl", 2L)
                .containsEntry(Fleet.NO_ROLE, 1L);
        assertThat(first.counts().failedByRole()).containsEntry("processor.pl", 1L).doesNotContainKey("collector.pl");

        ReportPage third = store.page(new ReportQuery(Optional.empty(), Optional.empty(), Optional.empty(), 8, 4));
        assertThat(third.reports()).extracting(r -> r.status().instance().orElseThrow().instanceId())
                .containsExactly("c-0");

        ReportPage role = store.page(new ReportQuery(Optional.of("processor.pl"), Optional.empty(), Optional.empty(),
                0, 100));
        assertThat(role.matching()).isEqualTo(2);
        assertThat(role.counts().instances()).isEqualTo(9); // counts are always the whole fleet
        ReportPage done = store.page(new ReportQuery(Optional.of("collector.pl"), Optional.of(RunState.DONE),
                Optional.of("ec2"), 0, 100));
        assertThat(done.matching()).isEqualTo(6);
        assertThat(store.page(new ReportQuery(Optional.empty(), Optional.empty(), Optional.of("gce"), 0, 100))
                .matching()).isZero();
    }

    @Test
    void theBytesKept_areTheCodecsOwn() throws Exception {
        ReportStore store = ReportStore.persistent(dir, Clock.systemUTC());
        byte[] sent = report("i-1");
        store.accept(sent, "127.0.0.1");
        byte[] file = Files.readAllBytes(dir.resolve("reports").resolve(EmbeddedReportStore.fileName("i-1")));
        ReceivedReport r = CODEC.readReceived(file);
        assertThat(CODEC.write(r.status())).isEqualTo(sent);
        assertThat(new String(file, StandardCharsets.UTF_8)).contains("\"version\" : 2").contains("\"receivedAt\"");
    }

    @Test
    void aRunDatedInTheFuture_isRefused_andDoesNotMakeTheGenuineReportsStale() throws Exception {
        Instant now = Instant.parse("2026-12-06T12:00:00Z");
        ReportStore store = ReportStore.embedded().clock(Clock.fixed(now, ZoneOffset.UTC)).build();
        assertThatThrownBy(() -> store.accept(report("i-1", "forged", 1, Instant.parse("2099-01-01T00:00:00Z"),
                RunState.DONE, "c.sh"), "10.0.0.9"))
                .isInstanceOf(ReportStore.InvalidReportException.class)
                .hasMessageContaining("2099-01-01T00:00:00Z").hasMessageContaining("NTP");
        assertThat(ids(store)).isEmpty();
        // a clock a little fast is not refused; the genuine report after the forgery is stored, not "stale"
        assertThat(store.accept(report("i-1", "genuine", 1, now.plus(Reports.MAX_CLOCK_SKEW).minusSeconds(1),
                RunState.FAILED, "c.sh"), "10.0.0.1")).isEqualTo(ReportStore.Accepted.STORED);
        assertThat(store.page(ReportQuery.all()).reports().get(0).status().state()).isEqualTo(RunState.FAILED);
        assertThatThrownBy(() -> store.accept(report("i-1", "later", 2, now.plus(Reports.MAX_CLOCK_SKEW)
                .plusSeconds(1), RunState.DONE, "c.sh"), "10.0.0.9")).isInstanceOf(
                ReportStore.InvalidReportException.class);
    }
}
