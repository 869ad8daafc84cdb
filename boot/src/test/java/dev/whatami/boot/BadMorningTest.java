package dev.whatami.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.emulator.MetadataEmulator;
import dev.whatami.metadata.MetadataClient;
import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import dev.whatami.status.TaskState;
import dev.whatami.status.TaskStatus;
import dev.whatami.testsupport.FakeTime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The "done when", each as it is written: the default settings, the whole boot, on loopback. The fourth,
 * {@code --dry-run} writes nothing, is {@code cli.DryRunWritesNothingTest}.
 */
class BadMorningTest {
    private static final String SCRIPT_PATH = "/roles/collector.sh";
    private static final byte[] SCRIPT = "#!/bin/sh\necho ran >> \"$MARKER\"\n".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    @BeforeAll
    static void keys() throws Exception {
        BootFaultMatrixTest.sign();
    }

    private Boot.Builder boot(MetadataClient metadata, FakeTime time, URI report) {
        // the defaults but for trusted keys (the signed script), the fake clock and the marker
        return Boot.builder(metadata).stateDir(dir.resolve("state")).logDir(dir.resolve("log")).bootId("boot-1")
                .trustedKeys(BootFaultMatrixTest.trustedKeys())
                .environment(Map.of("PATH", System.getenv("PATH"), "MARKER", dir.resolve("ran").toString()))
                .report(new Boot.ReportTarget(report, java.util.Optional.empty(), Duration.ofSeconds(10)))
                .console(line -> { }).clock(time).sleeper(time::sleep);
    }

    @Test
    void fileServerUp8sLate_theRoleIsTakenInThatBoot() throws Exception {
        FakeTime time = new FakeTime();
        try (FaultyFiles files = new FaultyFiles(); FaultyFiles reports = new FaultyFiles().start();
             MetadataEmulator imds = MetadataEmulator.builder().instanceId("i-late")
                     .userData(files.uri(SCRIPT_PATH).toString()).clock(time).start();
             MetadataClient metadata = MetadataClient.builder().endpoint(imds.endpoint()).clock(time)
                     .sleeper(time::sleep).build()) {
            files.serve(SCRIPT_PATH, SCRIPT).serve(SCRIPT_PATH + ".sig", BootFaultMatrixTest.signatureOf(SCRIPT));
            time.onSleep(elapsed -> {
                if (!files.started() && !time.instant().isBefore(time.start().plusSeconds(8))) {
                    try {
                        files.start();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            });
            RunStatus run = boot(metadata, time, reports.uri("/reports")).build().run();
            assertThat(run.state()).as(run.message().orElse("")).isEqualTo(RunState.DONE);
            assertThat(run.tasks().get(0).attempt()).isEqualTo(1);
            assertThat(Files.readString(dir.resolve("ran"))).isEqualTo("ran\n");
            assertThat(time.slept()).isBetween(Duration.ofSeconds(8), Duration.ofSeconds(20));
        }
    }

    @Test
    void aRunThatCouldNotReachTheServer_thenOneThatCan_runsTheTaskAsAttempt1() throws Exception {
        FakeTime time = new FakeTime();
        try (FaultyFiles files = new FaultyFiles(); FaultyFiles reports = new FaultyFiles().start();
             MetadataEmulator imds = MetadataEmulator.builder().instanceId("i-twice")
                     .userData(files.uri(SCRIPT_PATH).toString()).clock(time).start();
             MetadataClient metadata = MetadataClient.builder().endpoint(imds.endpoint()).clock(time)
                     .sleeper(time::sleep).build()) {
            files.serve(SCRIPT_PATH, SCRIPT).serve(SCRIPT_PATH + ".sig", BootFaultMatrixTest.signatureOf(SCRIPT));
            RunStatus first = boot(metadata, time, reports.uri("/reports")).fetchDeadline(Duration.ofSeconds(5))
                    .build().run();
            assertThat(first.state()).isEqualTo(RunState.NOT_FETCHED);
            assertThat(first.exitCode()).hasValue(4);
            assertThat(first.tasks().get(0).message().orElseThrow()).contains("no attempt was spent");
            assertThat(dir.resolve("ran")).doesNotExist();

            files.start();
            RunStatus second = boot(metadata, time, reports.uri("/reports")).build().run();
            assertThat(second.state()).isEqualTo(RunState.DONE);
            TaskStatus task = second.tasks().get(0);
            assertThat(task.state()).isEqualTo(TaskState.SUCCEEDED);
            assertThat(task.attempt()).isEqualTo(1);
            assertThat(task.history()).extracting(e -> e.outcome()).containsExactly(TaskState.NOT_FETCHED,
                    TaskState.SUCCEEDED);
            assertThat(Files.readString(dir.resolve("ran"))).isEqualTo("ran\n");

            // both boots reported with the one instance key, made at the first and kept (0600) in the state dir
            Path keyFile = dir.resolve("state").resolve("report-key");
            String key = Files.readString(keyFile);
            assertThat(key).matches("[A-Za-z0-9_-]{43}");
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)))
                    .isEqualTo("rw-------");
            assertThat(reports.requests()).filteredOn(r -> r.startsWith("POST /reports")).hasSizeGreaterThanOrEqualTo(2)
                    .allSatisfy(r -> assertThat(r).endsWith(" Whatami-Instance-Key: " + key));
        }
    }

    @Test
    void imdsV2RequiredWithA1500msToken_theRoleIsTaken_defaultSettings() throws Exception {
        FakeTime time = new FakeTime();
        try (FaultyFiles files = new FaultyFiles().start(); FaultyFiles reports = new FaultyFiles().start();
             MetadataEmulator imds = MetadataEmulator.builder().instanceId("i-slowtoken").imdsV2Required(true)
                     .userData(files.uri(SCRIPT_PATH).toString()).clock(time).start();
             MetadataClient metadata = MetadataClient.builder().endpoint(imds.endpoint()).clock(time)
                     .sleeper(time::sleep).build()) {
            files.serve(SCRIPT_PATH, SCRIPT).serve(SCRIPT_PATH + ".sig", BootFaultMatrixTest.signatureOf(SCRIPT));
            imds.faults().slowToken(Duration.ofMillis(1500));
            RunStatus run = boot(metadata, time, reports.uri("/reports")).build().run();
            assertThat(run.state()).as(run.message().orElse("")).isEqualTo(RunState.DONE);
            assertThat(Files.readString(dir.resolve("ran"))).isEqualTo("ran\n");
            // a token slower than the 1 s token timeout: one call may try IMDSv1 (refused with 401 by this service),
            // and the next goes back to the token endpoint; the user-data is read with a token
            assertThat(imds.requests()).filteredOn(r -> r.method().equals("GET") && r.path().equals("/latest/user-data"))
                    .last().satisfies(r -> assertThat(r.header("X-aws-ec2-metadata-token")).isPresent());
            assertThat(imds.requestCount("PUT", "/latest/api/token")).isGreaterThanOrEqualTo(2);
        }
    }
}
