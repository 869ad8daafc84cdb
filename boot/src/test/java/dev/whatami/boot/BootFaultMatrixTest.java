package dev.whatami.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.boot.ReportPolicy;
import dev.whatami.boot.FaultyFiles.Fault;
import dev.whatami.emulator.Faults;
import dev.whatami.emulator.MetadataEmulator;
import dev.whatami.fetch.TrustedKeys;
import dev.whatami.metadata.MetadataClient;
import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import dev.whatami.status.StatusCodec;
import dev.whatami.status.TaskState;
import dev.whatami.status.TaskStatus;
import dev.whatami.status.Trust;
import dev.whatami.testsupport.FakeTime;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bad morning, phase by phase: every boot phase against every network fault, through the whole boot
 * ({@link Boot}: metadata emulator, a file server that serves a signed script and its signature, a report server).
 * For each cell it asserts what must hold whatever the table says — {@code status.json} on disk is the run's result,
 * the script ran exactly when the run is done, what ran was verified by its signature, an infrastructure fault is
 * never "refused" and spends no attempt — and collects the outcome into {@code docs/fault-matrix.md}, which the
 * test fails on when the behaviour and the document differ ({@code -Dwhatami.writeFaultMatrix=true} rewrites it:
 * review the diff). Backoff waits run on a fake clock (they cost no real time); network timeouts are real.
 */
class BootFaultMatrixTest {
    private static final Path DOC = Path.of("..", "docs", "fault-matrix.md");
    private static final String SCRIPT_PATH = "/roles/collector.sh";
    private static final String SIG_PATH = SCRIPT_PATH + ".sig";
    private static final String REPORT_PATH = "/reports";
    private static final byte[] SCRIPT = ("#!/bin/sh\n# the role: padded so that a body cut in half is a real cut\n"
            + "#" + "x".repeat(4000) + "\necho ran >> \"$MARKER\"\n").getBytes(StandardCharsets.UTF_8);
    private static final Duration SCRIPT_READ_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration MARGIN = Duration.ofMillis(500);
    private static final StatusCodec CODEC = StatusCodec.create();

    private static KeyPair owner;
    private static byte[] signature;

    @TempDir
    Path tmp;

    /** A phase: where its requests go, and its timeout. */
    private enum Phase {
        TOKEN("token (`PUT /latest/api/token`)", "/latest/api/token", true, Duration.ofSeconds(1)),
        IDENTITY("identity (`GET …/meta-data/instance-id`)", "/latest/meta-data/instance-id", true,
                Duration.ofSeconds(2)),
        USER_DATA("user-data (`GET /latest/user-data`)", "/latest/user-data", true, Duration.ofSeconds(2)),
        SCRIPT("script (`GET " + SCRIPT_PATH + "`)", SCRIPT_PATH, false, SCRIPT_READ_TIMEOUT),
        SIGNATURE("signature (`GET " + SIG_PATH + "`)", SIG_PATH, false, SCRIPT_READ_TIMEOUT),
        REPORT("report (`POST " + REPORT_PATH + "`)", REPORT_PATH, false, Duration.ofSeconds(3));

        final String title;
        final String path;
        final boolean metadata;
        final Duration timeout;

        Phase(String title, String path, boolean metadata, Duration timeout) {
            this.title = title;
            this.path = path;
            this.metadata = metadata;
            this.timeout = timeout;
        }
    }

    /** A fault: how to inject it into the emulator, and into the file or report server. */
    private record Column(String title, BiConsumer<Faults, Phase> metadata, FileFault files) {
    }

    private interface FileFault {
        void inject(FaultyFiles files, Phase phase);
    }

    private static final List<Column> COLUMNS = List.of(
            new Column("refused connection", null, null),
            new Column("timeout (no answer)", (f, p) -> f.hangNext(1), (s, p) -> s.fault(p.path, Fault.HANG, 1)),
            new Column("reset mid-body", (f, p) -> f.dropNext(1), (s, p) -> s.fault(p.path, Fault.RESET, 1)),
            new Column("503", (f, p) -> f.failNext(1, 503), (s, p) -> s.fault(p.path, Fault.S503, 1)),
            new Column("429, Retry-After: 1", (f, p) -> f.failNext(1, 429, Duration.ofSeconds(1)),
                    (s, p) -> s.fault(p.path, Fault.S429, 1)),
            new Column("slow, ¼ of the timeout", (f, p) -> f.slowNext(1, p.timeout.dividedBy(4)),
                    (s, p) -> s.fault(p.path, Fault.SLOW, 1, p.timeout.dividedBy(4))),
            new Column("slow, timeout + 0.5 s", (f, p) -> f.slowNext(1, p.timeout.plus(MARGIN)),
                    (s, p) -> s.fault(p.path, Fault.SLOW, 1, p.timeout.plus(MARGIN))));

    @BeforeAll
    static void sign() throws Exception {
        owner = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        signature = signatureOf(SCRIPT);
    }

    /** What {@code whatami-server sign} writes for {@code script}, with the owner's key. */
    static byte[] signatureOf(byte[] script) throws Exception {
        Signature s = Signature.getInstance("Ed25519");
        s.initSign(owner.getPrivate());
        s.update(script);
        return (Base64.getEncoder().encodeToString(s.sign()) + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** The run phase: the script itself misbehaves. */
    private enum RunFault {
        EXIT_1("exits 1", "echo ran >> \"$MARKER\"; echo 'no disk for the collector' >&2; exit 1", ""),
        OVER_TIMEOUT("runs past its `timeout=2s`", "echo ran >> \"$MARKER\"; sleep 30", " timeout=2s"),
        KILLED("killed (SIGKILL)", "echo ran >> \"$MARKER\"; kill -9 $$", "");

        final String title;
        final String body;
        final String options;

        RunFault(String title, String body, String options) {
            this.title = title;
            this.body = body;
            this.options = options;
        }
    }

    private String runCell(RunFault fault) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("RUN-" + fault.name()));
        FakeTime time = new FakeTime();
        byte[] script = ("#!/bin/sh\n" + fault.body + "\n").getBytes(StandardCharsets.UTF_8);
        try (FaultyFiles files = new FaultyFiles(); FaultyFiles reports = new FaultyFiles();
             MetadataEmulator imds = MetadataEmulator.builder().instanceId("i-matrix").imdsV2Required(true)
                     .userData(files.uri(SCRIPT_PATH) + fault.options).clock(time).start()) {
            files.serve(SCRIPT_PATH, script).serve(SIG_PATH, signatureOf(script)).start();
            reports.start();
            Path marker = dir.resolve("ran");
            RunStatus run;
            try (MetadataClient metadata = MetadataClient.builder().endpoint(imds.endpoint()).imdsV2Required(true)
                    .clock(time).sleeper(time::sleep).build()) {
                run = boot(dir, metadata, time, marker, reports.uri(REPORT_PATH)).run();
            }
            RunStatus onDisk = CODEC.read(Files.readAllBytes(dir.resolve("state/status.json")));
            assertThat(onDisk.state()).isEqualTo(run.state());
            assertThat(Files.readString(marker)).as("it ran, once").isEqualTo("ran\n");
            TaskStatus task = run.tasks().get(0);
            assertThat(task.trust()).hasValue(Trust.SIGNATURE);
            assertThat(task.attempt()).as("a script that ran spent its attempt").isEqualTo(1);
            List<byte[]> posted = reports.posted();
            assertThat(CODEC.read(posted.get(posted.size() - 1)).state()).isEqualTo(run.state());
            return run.state().token() + " (exit " + run.exitCode().orElse(-1) + "), task " + task.state().token()
                    + task.exitCode().stream().mapToObj(c -> " with exit " + c).findFirst().orElse("")
                    + ", attempt 1 of 1 spent, reported";
        }
    }

    @Test
    void theRunPhase_matchesTheDocument() throws Exception {
        StringBuilder sb = new StringBuilder("\n## The run phase\n\nThe script itself (signed, verified) "
                + "misbehaves; `retries=0` (the default), so its one attempt is spent and\nlater runs and boots say so "
                + "(`whatami-agent reset` gives it another).\n\n| the script | outcome |\n|---|---|\n");
        for (RunFault fault : RunFault.values()) {
            sb.append("| ").append(fault.title).append(" | ").append(runCell(fault)).append(" |\n");
        }
        String doc = Files.readString(DOC);
        int at = doc.indexOf("\n## The run phase");
        String expected = at < 0 ? "" : doc.substring(at);
        if (Boolean.getBoolean("whatami.writeFaultMatrix")) {
            Files.writeString(DOC, (at < 0 ? doc : doc.substring(0, at)) + sb);
            expected = sb.toString();
        }
        assertThat(sb.toString()).as("docs/fault-matrix.md is out of date; rerun with -Dwhatami.writeFaultMatrix=true")
                .isEqualTo(expected);
    }

    static TrustedKeys trustedKeys() {
        return TrustedKeys.of("owner.pub", "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(owner.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n");
    }

    @Test
    void everyPhaseAgainstEveryFault_matchesTheDocument() throws Exception {
        Map<Phase, List<String>> rows = new LinkedHashMap<>();
        for (Phase phase : Phase.values()) {
            List<String> cells = new ArrayList<>();
            for (Column column : COLUMNS) {
                if (column.metadata() == null && (phase == Phase.SIGNATURE)) {
                    cells.add("— (the signature is beside the script: see script)");
                    continue;
                }
                cells.add(cell(phase, column));
            }
            rows.put(phase, cells);
        }
        String table = render(rows);
        String doc = Files.exists(DOC) ? Files.readString(DOC) : "";
        int at = doc.indexOf("\n## The run phase");
        if (Boolean.getBoolean("whatami.writeFaultMatrix")) {
            Files.writeString(DOC, table + (at < 0 ? "" : doc.substring(at)));
            doc = Files.readString(DOC);
            at = doc.indexOf("\n## The run phase");
        }
        assertThat(table).as("docs/fault-matrix.md is out of date; rerun with -Dwhatami.writeFaultMatrix=true and "
                + "review the diff").isEqualTo(at < 0 ? doc : doc.substring(0, at));
    }

    private String cell(Phase phase, Column column) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(phase.name() + "-" + COLUMNS.indexOf(column)));
        FakeTime time = new FakeTime();
        try (FaultyFiles files = new FaultyFiles(); FaultyFiles reports = new FaultyFiles();
             MetadataEmulator imds = MetadataEmulator.builder().instanceId("i-matrix").imdsV2Required(true)
                     .userData(files.uri(SCRIPT_PATH).toString()).clock(time).start()) {
            files.serve(SCRIPT_PATH, SCRIPT).serve(SIG_PATH, signature);
            boolean refused = column.metadata() == null;
            if (!(refused && phase == Phase.SCRIPT)) {
                files.start();
            }
            if (!(refused && phase == Phase.REPORT)) {
                reports.start();
            }
            URI endpoint = imds.endpoint();
            if (phase.metadata) {
                if (refused) {
                    endpoint = deadPort();
                } else {
                    column.metadata().accept(imds.faults().forPath(phase.path), phase);
                }
            } else if (!refused) {
                column.files().inject(phase == Phase.REPORT ? reports : files, phase);
            }
            Path marker = dir.resolve("ran");
            RunStatus run;
            try (MetadataClient metadata = MetadataClient.builder().endpoint(endpoint).imdsV2Required(true)
                    .clock(time).sleeper(time::sleep).build()) {
                run = boot(dir, metadata, time, marker, reports.uri(REPORT_PATH)).run();
            }
            int requests = phase.metadata ? (int) imds.requestCount(phase == Phase.TOKEN ? "PUT" : "GET", phase.path)
                    : (phase == Phase.REPORT ? reports : files).hits(phase.path);
            try {
                return describe(phase, refused, run, dir, marker, reports, requests, time);
            } catch (AssertionError e) {
                throw new AssertionError(phase + " × " + column.title() + ": " + e.getMessage() + "\n" + run, e);
            }
        }
    }

    static Boot boot(Path dir, MetadataClient metadata, FakeTime time, Path marker, URI report) {
        return Boot.builder(metadata).stateDir(dir.resolve("state")).logDir(dir.resolve("log")).bootId("boot-1")
                .trustedKeys(trustedKeys()).fetchReadTimeout(SCRIPT_READ_TIMEOUT)
                .environment(Map.of("PATH", System.getenv("PATH"), "MARKER", marker.toString()))
                .report(new Boot.ReportTarget(report, Optional.empty(), ReportPolicy.DEFAULT_BUDGET))
                .console(line -> { }).clock(time).sleeper(time::sleep).build();
    }

    private static URI deadPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return URI.create("http://127.0.0.1:" + s.getLocalPort());
        }
    }

    /** Asserts what holds in every cell, and says what happened. */
    private static String describe(Phase phase, boolean refused, RunStatus run, Path dir, Path marker,
                                   FaultyFiles reports, int requests, FakeTime time) throws IOException {
        RunStatus onDisk = CODEC.read(Files.readAllBytes(dir.resolve("state/status.json")));
        assertThat(onDisk.state()).as("status.json is the run's result").isEqualTo(run.state());
        boolean ran = Files.exists(marker);
        if (ran) {
            assertThat(Files.readString(marker)).as("the script ran once").isEqualTo("ran\n");
        }
        assertThat(ran).as("the script ran exactly when the run is done").isEqualTo(run.state() == RunState.DONE);
        assertThat(run.state()).as("a network fault never refuses a script for good").isNotEqualTo(RunState.REFUSED);
        for (TaskStatus task : run.tasks()) {
            if (task.state() == TaskState.SUCCEEDED) {
                assertThat(task.trust()).as("what ran was verified").hasValue(Trust.SIGNATURE);
            } else {
                assertThat(task.attempt()).as("a script that never ran spends no attempt: its next is still the first")
                        .isEqualTo(1);
            }
        }
        StringBuilder sb = new StringBuilder(run.state().token()).append(" (exit ")
                .append(run.exitCode().orElse(-1)).append(")");
        sb.append(ran ? ", role taken" : ", nothing ran");
        List<byte[]> posted = reports.posted();
        List<RunState> reportedStates = posted.stream().map(b -> CODEC.read(b).state()).toList();
        if (!reportedStates.isEmpty()) {
            assertThat(reportedStates.get(reportedStates.size() - 1)).as("the last report is the final status")
                    .isEqualTo(run.state());
            assertThat(reportedStates.stream().filter(RunState::finished).count()).as("one final report per run "
                    + reportedStates).isEqualTo(1);
        }
        if (phase == Phase.REPORT) {
            sb.append(posted.isEmpty() ? ", report lost" : ", reported");
        }
        if (!(refused && phase.metadata)) {
            sb.append(", ").append(requests).append(requests == 1 ? " request" : " requests");
        }
        Duration waited = time.slept();
        if (phase == Phase.REPORT && posted.isEmpty()) {
            // the report's waits are jittered (full jitter, 200 ms doubling to 2 s): their sum is not fixed, only
            // bounded by the report budget
            // two reports (task ended, run done), each 6 attempts with at most 0.2+0.4+0.8+1.6+2 s between them
            assertThat(waited).as("the report retried, within its policy").isPositive()
                    .isLessThanOrEqualTo(Duration.ofSeconds(10));
            sb.append(", retried within the 30 s report budget");
        } else if (waited.compareTo(Duration.ofSeconds(100)) >= 0) {
            sb.append(", gave up at the 120 s deadline"); // the last waits are jittered: the sum is not fixed
        } else if (waited.compareTo(Duration.ofSeconds(1)) >= 0) {
            sb.append(String.format(Locale.ROOT, ", waited %.0f s", Math.floor(waited.toMillis() / 1000.0)));
        }
        return sb.toString();
    }

    private static String render(Map<Phase, List<String>> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Fault matrix: the whole boot\n\n");
        sb.append("Generated by `boot`'s `BootFaultMatrixTest`, which fails when the agent's behaviour and this "
                + "table differ\n(`-Dwhatami.writeFaultMatrix=true` rewrites it). Each cell is one first boot through "
                + "`dev.whatami.boot.Boot`:\nEC2 metadata emulator with IMDSv2 required, user-data naming one script "
                + "on a file server, the script's\nEd25519 signature beside it and the owner's key trusted, a report "
                + "server. The agent's default settings\n(deadline 120 s, fetch deadline what is left of it, fetch "
                + "retries 250 ms doubling to 5 s with full jitter;\nmetadata token timeout 1 s, read timeout 2 s; "
                + "report budget 30 s: 6 attempts, 200 ms doubling to 2 s with full jitter, 3 s per call) except the scripts' read\ntimeout, 2 s instead of 30 s. Each fault "
                + "hits the phase's path once; a refused connection means nothing\nlistens at all for the whole boot "
                + "(metadata service, file server or report server). Backoff waits\nrun on a fake clock; \"waited\" is "
                + "their sum, whole seconds.\n\n");
        sb.append("Every cell also asserts: `status.json` is the run's result; the script ran exactly when the run is "
                + "`done`,\nonce, and what ran was verified by its signature; no network fault makes a script "
                + "`refused`; a script\nthat did not run spent no attempt (the next run or boot tries it again: "
                + "`AgentLifecycleTest`); the report,\nwhen it arrives, is the final status, once. Exit codes: 0 done, "
                + "3 metadata unreachable, 4 not fetched.\nThe metadata client's own matrix, call by call: "
                + "[fault-matrix-metadata.md](fault-matrix-metadata.md).\n\n");
        sb.append("| phase |");
        COLUMNS.forEach(c -> sb.append(' ').append(c.title()).append(" |"));
        sb.append("\n|---|");
        COLUMNS.forEach(c -> sb.append("---|"));
        sb.append('\n');
        rows.forEach((phase, cells) -> {
            sb.append("| ").append(phase.title).append(" |");
            cells.forEach(c -> sb.append(' ').append(c).append(" |"));
            sb.append('\n');
        });
        return sb.toString();
    }
}
