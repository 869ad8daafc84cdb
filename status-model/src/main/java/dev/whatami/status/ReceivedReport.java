package dev.whatami.status;

import java.time.Instant;
import java.util.Objects;

/**
 * A status document as a server received it.
 *
 * @param status     what the agent sent
 * @param receivedAt when it arrived
 * @param from       the sender's address as the server saw it
 */
public record ReceivedReport(RunStatus status, Instant receivedAt, String from) {
    public ReceivedReport {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(receivedAt, "receivedAt");
        Objects.requireNonNull(from, "from");
    }
}
