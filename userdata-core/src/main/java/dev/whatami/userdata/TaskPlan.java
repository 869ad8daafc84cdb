package dev.whatami.userdata;

import java.util.List;

/**
 * What the user-data asks for: tasks to run in order, and warnings about things that were accepted but
 * look like mistakes (surrounding quotes, ignored MIME parts).
 *
 * @param tasks    the tasks, in the order they run
 * @param warnings problems that did not stop parsing
 */
public record TaskPlan(List<TaskSpec> tasks, List<Problem> warnings) {
    public TaskPlan {
        tasks = List.copyOf(tasks);
        warnings = List.copyOf(warnings);
    }
}
