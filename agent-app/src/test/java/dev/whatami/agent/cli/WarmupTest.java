package dev.whatami.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.userdata.Frequency;
import dev.whatami.userdata.TaskSpec;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The warm-up runs the boot's own code on constants: if the grammar or the codec stopped accepting its sample, it
 * would fail silently at every boot (and warm nothing), so its sample is held to the grammar here.
 */
class WarmupTest {
    @Test
    void theSample_isOneTaskOfTheEveryDayForm_withEveryOptionTheBootParses() {
        dev.whatami.userdata.TaskPlan plan = Warmup.run();
        assertThat(plan.tasks()).hasSize(1);
        assertThat(plan.warnings()).isEmpty();
        TaskSpec task = plan.tasks().get(0);
        assertThat(task.name()).isEqualTo("warmup.sh");
        assertThat(task.server()).contains("127.0.0.1:8080");
        assertThat(task.digest()).isPresent();
        assertThat(task.frequency()).isEqualTo(Frequency.ALWAYS);
        assertThat(task.timeout()).contains(Duration.ofSeconds(60));
        assertThat(task.env()).containsOnlyKeys("ROLE");
    }
}
