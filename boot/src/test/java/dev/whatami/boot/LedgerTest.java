package dev.whatami.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.boot.Ledger.Action;
import dev.whatami.boot.Ledger.Decision;
import dev.whatami.status.TaskEvent;
import dev.whatami.status.TaskState;
import dev.whatami.userdata.Frequency;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LedgerTest {
    @TempDir
    Path state;
    private final Clock clock = Clock.fixed(Instant.parse("2026-11-24T10:00:00Z"), ZoneOffset.UTC);

    private Ledger boot(String bootId) throws Exception {
        return Ledger.open(state.resolve("instances/i-1"), state, bootId, clock);
    }

    private TaskEvent event(TaskState outcome, int attempt, String message) {
        return new TaskEvent(clock.instant(), outcome, attempt, outcome.ran() ? OptionalInt.of(
                outcome == TaskState.SUCCEEDED ? 0 : 1) : OptionalInt.empty(), Optional.of(message));
    }

    private TaskEvent succeeded() {
        return event(TaskState.SUCCEEDED, 1, "exited 0");
    }

    private TaskEvent failed(int attempt) {
        return event(TaskState.FAILED, attempt, "exited 1");
    }

    private static Ledger.Task task(Frequency f, int retries) {
        return new Ledger.Task("c.sh", "key-" + f.token(), f, retries);
    }

    @Test
    void perInstance_runsOnceThenSkipsOnReboot() throws Exception {
        Ledger.Task t = task(Frequency.PER_INSTANCE, 0);
        Ledger b1 = boot("boot-1");
        assertThat(b1.decide(t)).isEqualTo(new Decision(Action.RUN, 1, TaskState.RUNNING, "first run"));
        b1.started(t, 1);
        b1.ran(t, 1, succeeded());
        assertThat(boot("boot-2").decide(t).action()).isEqualTo(Action.SKIP);
        assertThat(boot("boot-1").decide(t).action()).isEqualTo(Action.SKIP);
    }

    @Test
    void failedWithRetries2_runsThreeTimesAcrossThreeBootsThenGivesUp() throws Exception {
        Ledger.Task t = task(Frequency.PER_INSTANCE, 2);
        for (int boot = 1; boot <= 3; boot++) {
            Ledger l = boot("boot-" + boot);
            Decision d = l.decide(t);
            assertThat(d.action()).as("boot " + boot).isEqualTo(Action.RUN);
            assertThat(d.attempt()).isEqualTo(boot);
            l.started(t, d.attempt());
            l.ran(t, d.attempt(), failed(d.attempt()));
            assertThat(boot("boot-" + boot).decide(t).action()).as("same boot again").isEqualTo(Action.GIVE_UP);
        }
        Decision fourth = boot("boot-4").decide(t);
        assertThat(fourth.action()).isEqualTo(Action.GIVE_UP);
        assertThat(fourth.reason()).isEqualTo("failed after 3 attempts; no retries left (retries=2). Run "
                + "whatami-agent reset c.sh to run it again, or change its user-data line.");
    }

    @Test
    void perBoot_runsEveryBootOnce() throws Exception {
        Ledger.Task t = task(Frequency.PER_BOOT, 0);
        Ledger b1 = boot("boot-1");
        b1.started(t, 1);
        b1.ran(t, 1, succeeded());
        assertThat(boot("boot-1").decide(t).action()).isEqualTo(Action.SKIP);
        assertThat(boot("boot-2").decide(t)).isEqualTo(new Decision(Action.RUN, 1, TaskState.RUNNING, "new boot"));
    }

    @Test
    void always_alwaysRuns() throws Exception {
        Ledger.Task t = task(Frequency.ALWAYS, 0);
        Ledger b1 = boot("boot-1");
        b1.started(t, 1);
        b1.ran(t, 1, succeeded());
        assertThat(boot("boot-1").decide(t).action()).isEqualTo(Action.RUN);
    }

    @Test
    void once_isPerImage_notPerInstance() throws Exception {
        Ledger.Task t = task(Frequency.ONCE, 0);
        Ledger l = boot("boot-1");
        l.started(t, 1);
        l.ran(t, 1, succeeded());
        Ledger otherInstance = Ledger.open(state.resolve("instances/i-2"), state, "boot-9", clock);
        assertThat(otherInstance.decide(t).action()).isEqualTo(Action.SKIP);
        assertThat(state.resolve("once-ledger.json")).exists();
    }

    @Test
    void runningFoundAtOpen_wasInterrupted_andCountsAsAFailedAttempt() throws Exception {
        Ledger.Task t = task(Frequency.PER_INSTANCE, 1);
        boot("boot-1").started(t, 1); // power lost here
        Ledger after = boot("boot-2");
        assertThat(after.wasInterrupted(t)).isTrue();
        assertThat(after.decide(t)).isEqualTo(new Decision(Action.RUN, 2, TaskState.RUNNING, "retry 1 of 1 after interrupted attempt 1"));
    }

    @Test
    void changedTask_isANewTask() throws Exception {
        Ledger.Task t = task(Frequency.PER_INSTANCE, 0);
        Ledger l = boot("boot-1");
        l.started(t, 1);
        l.ran(t, 1, succeeded());
        Ledger.Task changed = new Ledger.Task("c.sh", "another-key", Frequency.PER_INSTANCE, 0);
        assertThat(boot("boot-2").decide(changed).action()).isEqualTo(Action.RUN);
    }

    @Test
    void ledgerFile_isJsonWrittenWhole() throws Exception {
        Ledger.Task t = task(Frequency.PER_INSTANCE, 0);
        boot("boot-1").started(t, 1);
        String json = Files.readString(state.resolve("instances/i-1/ledger.json"));
        assertThat(json).contains("\"state\" : \"running\"").contains("\"boot\" : \"boot-1\"");
        try (var files = Files.list(state.resolve("instances/i-1"))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("ledger.json");
        }
    }

    @Test
    void notFetched_spendsNoAttempt_andRunsAgainInTheSameBoot() throws Exception {
        Ledger.Task t = task(Frequency.PER_INSTANCE, 0);
        Ledger l = boot("boot-1");
        l.notRun(t, event(TaskState.NOT_FETCHED, 1, "connection refused"));
        Decision again = boot("boot-1").decide(t);
        assertThat(again.action()).isEqualTo(Action.RUN);
        assertThat(again.attempt()).isEqualTo(1);
        Ledger next = boot("boot-1");
        next.notRun(t, event(TaskState.NOT_FETCHED, 1, "HTTP 503"));
        next.started(t, 1);
        next.ran(t, 1, succeeded());
        Ledger.Entry e = boot("boot-2").lookup(t).orElseThrow();
        assertThat(e.state()).isEqualTo("succeeded");
        assertThat(e.attempts()).isEqualTo(1);
        assertThat(e.history()).extracting(TaskEvent::outcome)
                .containsExactly(TaskState.NOT_FETCHED, TaskState.NOT_FETCHED, TaskState.SUCCEEDED);
        assertThat(e.firstFailure().orElseThrow().message()).hasValue("connection refused");
    }

    @Test
    void refused_isNotRunAgainThisBoot_butIsTriedOnTheNext_withoutSpendingAnAttempt() throws Exception {
        Ledger.Task t = task(Frequency.PER_INSTANCE, 0);
        boot("boot-1").notRun(t, event(TaskState.REFUSED, 1, "sha256 mismatch"));
        Decision sameBoot = boot("boot-1").decide(t);
        assertThat(sameBoot.action()).isEqualTo(Action.GIVE_UP);
        assertThat(sameBoot.state()).isEqualTo(TaskState.REFUSED);
        assertThat(sameBoot.reason()).isEqualTo("refused on this boot; it is tried again on the next boot (or after "
                + "whatami-agent reset c.sh)");
        assertThat(boot("boot-2").decide(t)).isEqualTo(new Decision(Action.RUN, 1, TaskState.RUNNING,
                "refused on an earlier boot; trying again"));
    }

    @Test
    void failedWithoutRetries_saysHowToRunItAgain_andResetForgetsIt() throws Exception {
        Ledger.Task t = task(Frequency.PER_INSTANCE, 0);
        Ledger.Task other = new Ledger.Task("other.sh", "k2", Frequency.ONCE, 0);
        Ledger l = boot("boot-1");
        l.started(t, 1);
        l.ran(t, 1, failed(1));
        l.started(other, 1);
        l.ran(other, 1, succeeded());
        Decision d = boot("boot-2").decide(t);
        assertThat(d.state()).isEqualTo(TaskState.FAILED);
        assertThat(d.reason()).isEqualTo("failed after 1 attempt; no retries left (retries=0). Run whatami-agent reset "
                + "c.sh to run it again, or change its user-data line.");
        Ledger later = boot("boot-2");
        assertThat(later.forget(List.of("c.sh"))).extracting(Ledger.Entry::name).containsExactly("c.sh");
        assertThat(boot("boot-2").decide(t).action()).isEqualTo(Action.RUN);
        assertThat(boot("boot-2").decide(other).action()).isEqualTo(Action.SKIP);
        assertThat(boot("boot-2").forget(List.of())).extracting(Ledger.Entry::name).containsExactly("other.sh");
        assertThat(boot("boot-2").decide(other).action()).isEqualTo(Action.RUN);
        assertThat(Files.readString(state.resolve("instances/i-1/ledger.json"))).contains("\"resets\"");
    }

    @Test
    void versionOneLedger_isRead() throws Exception {
        Files.createDirectories(state.resolve("instances/i-1"));
        Files.writeString(state.resolve("instances/i-1/ledger.json"), "{\"version\":1,\"tasks\":{\"key-per-instance\":"
                + "{\"name\":\"c.sh\",\"frequency\":\"per-instance\",\"state\":\"failed\",\"attempts\":1,"
                + "\"boot\":\"boot-1\",\"updated\":\"2026-11-24T09:00:00Z\"}}}");
        Ledger.Task t = task(Frequency.PER_INSTANCE, 1);
        assertThat(boot("boot-2").decide(t)).isEqualTo(new Decision(Action.RUN, 2, TaskState.RUNNING,
                "retry 1 of 1 after failed attempt 1"));
    }

    @Test
    void ledgerReachedThroughASymbolicLink_isRefusedNotFollowed() throws Exception {
        Path secret = Files.writeString(state.resolve("secret.txt"), "{\"tasks\":{}}");
        Files.createDirectories(state.resolve("instances/i-1"));
        Files.createSymbolicLink(state.resolve("instances/i-1/ledger.json"), secret);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> boot("boot-1"))
                .isInstanceOf(java.io.IOException.class)
                .hasMessageContaining("is a symbolic link; whatami never reads state through links");
    }
}
