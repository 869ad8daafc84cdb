package dev.whatami.userdata;

import java.util.List;
import java.util.stream.Collectors;

/**
 * User-data that cannot become a {@link TaskPlan}. Carries the problems found, not only the first, so
 * a person can fix them in one go (the first 100, and how many more).
 */
public class UserDataException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient List<Problem> problems;
    private final int problemCount;

    public UserDataException(List<Problem> problems) {
        this(problems, problems.size());
    }

    /**
     * @param problems     the problems kept (the parser keeps the first 100 and ends the list with one saying how many
     *                     more there were)
     * @param problemCount how many were found in all
     */
    public UserDataException(List<Problem> problems, int problemCount) {
        super(render(problems, problemCount));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a UserDataException needs at least one problem");
        }
        this.problems = List.copyOf(problems);
        this.problemCount = Math.max(problemCount, 1);
    }

    public UserDataException(Problem problem) {
        this(List.of(problem));
    }

    /** How many problems were found, also those past the first 100 that {@link #problems()} does not list. */
    public int problemCount() {
        return problemCount;
    }

    /**
     * The problems found, in the order of the input: every one, or, when there were more than 100, the first 100 and
     * one saying how many more there were.
     */
    public List<Problem> problems() {
        return problems;
    }

    /** Line of the first problem (1-based), 0 when it concerns the data as a whole. */
    public int line() {
        return problems.get(0).line();
    }

    /** Column of the first problem (1-based), 0 when not tied to a column. */
    public int column() {
        return problems.get(0).column();
    }

    private static String render(List<Problem> problems, int problemCount) {
        if (problems.size() == 1) {
            return "invalid user-data: " + problems.get(0);
        }
        return "invalid user-data, " + Math.max(problemCount, problems.size()) + " problems:"
                + problems.stream().map(p -> "\n  " + p).collect(Collectors.joining());
    }
}
