package dev.whatami.userdata;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * For arbitrary bytes the parser meets {@link ParseOutcome}'s contract: a plan the agent can use, or a
 * {@link UserDataException} whose problems are located — never another exception or an error (2,000 levels of
 * nested MIME once overflowed the stack). Without {@code JAZZER_FUZZ} it replays its inputs in
 * {@code src/test/resources/dev/whatami/userdata/UserDataFuzzTestInputs/parse} (seeded with nested MIME and hostile
 * URLs); in CI ({@code CI=true}) it fuzzes for a bounded time.
 */
class UserDataFuzzTest {
    @FuzzTest(maxDuration = "60s")
    void parse(byte[] data) {
        ParseOutcome.check(data);
    }
}
