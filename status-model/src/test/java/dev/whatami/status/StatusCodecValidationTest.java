package dev.whatami.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.userdata.Frequency;
import dev.whatami.userdata.Problem;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** A report is untrusted input: every way of not being a status document is refused with the field named. */
class StatusCodecValidationTest {
    private static final StatusCodec CODEC = StatusCodec.create();

    private static StatusFormatException refused(String json) {
        try {
            CODEC.read(json.getBytes(StandardCharsets.UTF_8));
        } catch (StatusFormatException e) {
            return e;
        }
        throw new AssertionError("accepted: " + json);
    }

    @Test
    void notAnObject_orNotJson_orTrailingGarbage_isRefused() {
        assertThat(refused("[1,2]").getMessage()).isEqualTo("the status document must be a JSON object, got an array");
        assertThat(refused("\"done\"").getMessage()).isEqualTo("the status document must be a JSON object, got a string");
        assertThat(refused("{\"state\":").getMessage()).startsWith("the status document is not valid JSON: ");
        assertThat(refused("{\"state\":\"done\"} {\"x\":1}").getMessage())
                .isEqualTo("the status document has more after its JSON object (at byte 17); send exactly one object");
        assertThat(refused("{\"state\":\"done\",\"state\":\"failed\"}").getMessage())
                .startsWith("the status document is not valid JSON: Duplicate key");
    }

    @Test
    void wrongTypesAndValues_nameTheField() {
        assertThat(refused("{}").getMessage()).isEqualTo("status document: state is missing; it must be a string");
        assertThat(refused("{\"state\":\"bogus\"}").getMessage()).isEqualTo("status document: state must be one of "
                + "running, done, failed, invalid, unreachable, not-fetched, refused, interrupted");
        assertThat(refused("{\"state\":\"done\",\"exitCode\":\"0\"}").getMessage())
                .isEqualTo("status document: exitCode must be a whole number, got a string");
        assertThat(refused("{\"state\":\"done\",\"tasks\":{}}").getMessage())
                .isEqualTo("status document: tasks must be an array, got a object");
        assertThat(refused("{\"state\":\"done\",\"tasks\":[{\"name\":\"a.sh\",\"state\":\"exploded\"}]}").getMessage())
                .startsWith("status document: tasks[0].state must be one of running, succeeded");
        assertThat(refused("{\"state\":\"done\",\"tasks\":[{\"name\":\"a.sh\",\"attempt\":-1}]}").getMessage())
                .isEqualTo("status document: tasks[0].attempt must be >= 0");
        assertThat(refused("{\"state\":\"done\",\"startedAt\":\"yesterday\"}").getMessage())
                .isEqualTo("status document: startedAt must be an ISO-8601 UTC time such as 2026-12-02T10:15:30Z");
        assertThat(refused("{\"state\":\"done\",\"instanceId\":\"" + "i".repeat(256) + "\"}").getMessage())
                .isEqualTo("status document: instanceId must be at most 255 characters, got 256");
        assertThat(refused("{\"state\":\"done\",\"tasks\":[{\"name\":\"a\",\"tail\":{\"stdout\":[1]}}]}").getMessage())
                .isEqualTo("status document: tasks[0].tail.stdout must hold strings only");
    }

    @Test
    void tooManyTasksOrTooLarge_isRefused() {
        String tasks = "{\"name\":\"a\"},".repeat(257);
        assertThat(refused("{\"state\":\"done\",\"tasks\":[" + tasks.substring(0, tasks.length() - 1) + "]}")
                .getMessage()).isEqualTo("status document: tasks holds 257 entries; at most 256");
        byte[] huge = new byte[StatusCodec.MAX_BYTES + 1];
        assertThatThrownBy(() -> CODEC.read(huge)).isInstanceOf(StatusFormatException.class)
                .hasMessage("the status document is 262145 bytes; at most 262144");
    }

    @Test
    void longMessagesAreClipped_unknownFieldsIgnored() {
        RunStatus s = CODEC.read(("{\"state\":\"failed\",\"future\":{\"x\":1},\"message\":\"" + "m".repeat(10_000)
                + "\"}").getBytes(StandardCharsets.UTF_8));
        assertThat(s.message().orElseThrow()).hasSize(4097).endsWith("\u2026");
    }

    @Test
    void builtDocument_roundTrips() {
        Instant t = Instant.parse("2026-12-02T10:00:00Z");
        TaskEvent e = new TaskEvent(t, TaskState.NOT_FETCHED, 1, java.util.OptionalInt.empty(),
                java.util.Optional.of("connection refused"));
        RunStatus s = RunStatus.builder(RunState.RUNNING).runId("r1").revision(3).startedAt(t)
                .pid(OptionalLong.of(42)).instance(new InstanceInfo("i-1", "ec2", java.util.Optional.empty(),
                        java.util.Optional.of("us-east-1a")))
                .problems(List.of(new Problem(2, 5, "x", "fix it")))
                .tasks(List.of(TaskStatus.builder("a.sh", TaskState.RUNNING).frequency(Frequency.PER_BOOT).attempt(1)
                        .firstFailure(java.util.Optional.of(e)).history(List.of(e))
                        .tail(new OutputTail(List.of("hello"), List.of())).build()))
                .build();
        assertThat(CODEC.read(CODEC.write(s))).isEqualTo(s);
        assertThat(s.toBuilder().build()).isEqualTo(s);
        assertThat(s.tasks().get(0).toBuilder().build()).isEqualTo(s.tasks().get(0));
        RunStatus done = s.toBuilder().state(RunState.REFUSED).build();
        assertThat(done.exitCode()).hasValue(4);
    }
}
