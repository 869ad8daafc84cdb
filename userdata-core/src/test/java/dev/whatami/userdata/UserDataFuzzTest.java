package dev.whatami.userdata;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * For arbitrary bytes the parser returns a plan with tasks or throws {@link UserDataException} with at least
 * one problem — never another exception. Without {@code JAZZER_FUZZ} it replays its inputs in
 * {@code src/test/resources/dev/whatami/userdata/UserDataFuzzTestInputs/parse}; in CI ({@code CI=true}) it
 * fuzzes for a bounded time.
 */
class UserDataFuzzTest {
    private final UserDataParser parser = UserDataParser.create();

    @FuzzTest(maxDuration = "60s")
    void parse(byte[] data) {
        try {
            TaskPlan plan = parser.parse(data);
            if (plan.tasks().isEmpty() || plan.tasks().size() > UserDataParser.MAX_TASKS) {
                throw new IllegalStateException("a plan with " + plan.tasks().size() + " tasks");
            }
        } catch (UserDataException e) {
            if (e.problems().isEmpty() || e.getMessage() == null || e.getMessage().isBlank()) {
                throw new IllegalStateException("a UserDataException that says nothing", e);
            }
        }
    }
}
