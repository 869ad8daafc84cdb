package dev.whatami.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.run.Ledger.Action;
import dev.whatami.run.Ledger.Decision;
import dev.whatami.userdata.Frequency;
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

    private static Ledger.Task task(Frequency f, int retries) {
        return new Ledger.Task("c.sh", "key-" + f.token(), f, retries);
    }

    @Test
    void perInstance_runsOnceThenSkipsOnReboot() throws Exception {
        Ledger.Task t = task(Frequency.PER_INSTANCE, 0);
        Ledger b1 = boot("boot-1");
        assertThat(b1.decide(t)).isEqualTo(new Decision(Action.RUN, 1, "first run"));
        b1.started(t, 1);
        b1.finished(t, 1, true);
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
            l.finished(t, d.attempt(), false);
            assertThat(boot("boot-" + boot).decide(t).action()).as("same boot again").isEqualTo(Action.GIVE_UP);
        }
        Decision fourth = boot("boot-4").decide(t);
        assertThat(fourth.action()).isEqualTo(Action.GIVE_UP);
        assertThat(fourth.reason()).isEqualTo("failed after 3 attempts; no retries left (retries=2). Change the task "
                + "(its user-data line) to run it again.");
    }

    @Test
    void perBoot_runsEveryBootOnce() throws Exception {
        Ledger.Task t = task(Frequency.PER_BOOT, 0);
        Ledger b1 = boot("boot-1");
        b1.started(t, 1);
        b1.finished(t, 1, true);
        assertThat(boot("boot-1").decide(t).action()).isEqualTo(Action.SKIP);
        assertThat(boot("boot-2").decide(t)).isEqualTo(new Decision(Action.RUN, 1, "new boot"));
    }

    @Test
    void always_alwaysRuns() throws Exception {
        Ledger.Task t = task(Frequency.ALWAYS, 0);
        Ledger b1 = boot("boot-1");
        b1.started(t, 1);
        b1.finished(t, 1, true);
        assertThat(boot("boot-1").decide(t).action()).isEqualTo(Action.RUN);
    }

    @Test
    void once_isPerImage_notPerInstance() throws Exception {
        Ledger.Task t = task(Frequency.ONCE, 0);
        Ledger l = boot("boot-1");
        l.started(t, 1);
        l.finished(t, 1, true);
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
        assertThat(after.decide(t)).isEqualTo(new Decision(Action.RUN, 2, "retry 1 of 1 after interrupted attempt 1"));
    }

    @Test
    void changedTask_isANewTask() throws Exception {
        Ledger.Task t = task(Frequency.PER_INSTANCE, 0);
        Ledger l = boot("boot-1");
        l.started(t, 1);
        l.finished(t, 1, true);
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
}
