package dev.whatami.status;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One thing that happened to a task in some run: an attempt that ran, or a run in which it could not be fetched or
 * was refused. The ledger keeps these across boots; {@code status.json} shows them as a task's history.
 *
 * @param at       when it ended
 * @param outcome  how it ended
 * @param attempt  which attempt it was (for {@link TaskState#NOT_FETCHED}/{@link TaskState#REFUSED}: the attempt
 *                 that would have run; no attempt was spent)
 * @param exitCode the script's exit code, where it ran
 * @param message  what happened, with what to do (never a secret)
 */
public record TaskEvent(Instant at, TaskState outcome, int attempt, OptionalInt exitCode, Optional<String> message) {
    public TaskEvent {
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(exitCode, "exitCode");
        Objects.requireNonNull(message, "message");
        if (attempt < 0) {
            throw new IllegalArgumentException("attempt must be >= 0, got " + attempt);
        }
        message = message.map(m -> StatusLimits.clip(m, StatusLimits.MAX_MESSAGE));
    }
}
