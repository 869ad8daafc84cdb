package dev.whatami.userdata;

import java.util.List;
import java.util.stream.Collectors;

/**
 * User-data that cannot become a {@link TaskPlan}. Carries every problem found, not only the first, so
 * a person can fix them all in one go.
 */
public class UserDataException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient List<Problem> problems;

    public UserDataException(List<Problem> problems) {
        super(render(problems));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a UserDataException needs at least one problem");
        }
        this.problems = List.copyOf(problems);
    }

    public UserDataException(Problem problem) {
        this(List.of(problem));
    }

    /** Every problem found, in the order of the input. */
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

    private static String render(List<Problem> problems) {
        if (problems.size() == 1) {
            return "invalid user-data: " + problems.get(0);
        }
        return "invalid user-data, " + problems.size() + " problems:"
                + problems.stream().map(p -> "\n  " + p).collect(Collectors.joining());
    }
}
