package dev.whatami.userdata.internal;

import dev.whatami.userdata.Problem;
import dev.whatami.userdata.TaskPlan;
import dev.whatami.userdata.TaskSpec;
import dev.whatami.userdata.UserDataException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A plan being collected from the user-data's text or from its MIME parts: the tasks in order, every problem and
 * every warning, and the two rules that span lines and parts — at most {@code maxTasks} tasks, and one task per
 * script name (a task's directory, logs and run-once record are kept under its name). Not thread-safe.
 */
public final class PlanBuilder {
    private final int maxTasks;
    private final List<TaskSpec> tasks = new ArrayList<>();
    private final List<Problem> problems = new ArrayList<>();
    private final List<Problem> warnings = new ArrayList<>();
    private final Map<String, String> placeOfName = new HashMap<>();
    private int problemTotal;
    private int warningTotal;
    private boolean tooMany;

    /**
     * Where text comes from: the user-data itself, or one of its MIME parts.
     *
     * @param label how a message names the part, e.g. {@code MIME part 3 (text/x-whatami)}; empty for the user-data
     * @param place how another message refers to it, e.g. {@code MIME part 3}; empty for the user-data
     */
    public record Origin(String label, String place) {
        /** The user-data itself. */
        public static final Origin WHOLE = new Origin("", "");

        /** What a message about this origin starts with. */
        public String prefix() {
            return label.isEmpty() ? "" : label + ": ";
        }

        /** How to refer to one of its lines, e.g. {@code line 3} or {@code MIME part 2, line 3}. */
        public String line(int line) {
            return place.isEmpty() ? "line " + line : place + ", line " + line;
        }
    }

    public PlanBuilder(int maxTasks) {
        this.maxTasks = maxTasks;
    }

    /** Records a problem; past {@link UserDataLimits#MAX_PROBLEMS} it is only counted. */
    public void problem(Problem problem) {
        problemTotal++;
        if (problems.size() < UserDataLimits.MAX_PROBLEMS) {
            problems.add(problem);
        }
    }

    /** Records a warning; past {@link UserDataLimits#MAX_PROBLEMS} it is only counted. */
    public void warning(Problem warning) {
        warningTotal++;
        if (warnings.size() < UserDataLimits.MAX_PROBLEMS) {
            warnings.add(warning);
        }
    }

    /** How many problems were found, also those not kept. */
    public int problemCount() {
        return problemTotal;
    }

    /** The kept entries, then one saying how many more there were. */
    private static List<Problem> withRest(List<Problem> kept, int total, String what) {
        if (total <= kept.size()) {
            return kept;
        }
        List<Problem> all = new ArrayList<>(kept);
        all.add(Problem.whole("and " + (total - kept.size()) + " more " + what + " (the first " + kept.size()
                + " are shown)"));
        return all;
    }

    /**
     * Adds a task written on a line of {@code origin}; refused when it is one too many or its name is taken.
     *
     * @param column where its first word starts
     */
    public void lineTask(TaskSpec task, Origin origin, int line, int column) {
        add(task, origin.line(line), line, column, origin.prefix(), "give one of them another file name on its "
                + "server");
    }

    /** Adds a task carried whole by a MIME part (a script); refused when it is one too many or its name is taken. */
    public void partTask(TaskSpec task, Origin origin) {
        add(task, origin.place(), 0, 0, origin.prefix(), "give one of the parts another filename (its "
                + "Content-Disposition header)");
    }

    private void add(TaskSpec task, String place, int line, int column, String prefix, String rename) {
        if (tasks.size() >= maxTasks) {
            if (!tooMany) {
                problem(new Problem(line, column, "", prefix + "more than " + maxTasks + " tasks (the limit); "
                        + "this is task " + (tasks.size() + 1) + ". Run fewer tasks, or one script that starts the "
                        + "others."));
                tooMany = true;
            }
            return;
        }
        String first = placeOfName.putIfAbsent(task.name(), place);
        if (first != null) {
            problem(new Problem(line, column, task.name(), prefix + "a second task named " + task.name() + " ("
                    + first + " has one); each task's directory, logs and run-once record are kept under its name — "
                    + rename + "."));
            return;
        }
        tasks.add(task);
    }

    /**
     * The plan.
     *
     * @param noTask the problem to report when there is no problem but also no task
     * @throws UserDataException with every problem, or with {@code noTask}
     */
    public TaskPlan plan(Problem noTask) {
        if (!problems.isEmpty()) {
            throw new UserDataException(withRest(problems, problemTotal, "problems"), problemTotal);
        }
        if (tasks.isEmpty()) {
            throw new UserDataException(noTask);
        }
        return new TaskPlan(tasks, withRest(warnings, warningTotal, "warnings"));
    }

    /** The warnings so far. */
    public List<Problem> warnings() {
        return List.copyOf(withRest(warnings, warningTotal, "warnings"));
    }
}
