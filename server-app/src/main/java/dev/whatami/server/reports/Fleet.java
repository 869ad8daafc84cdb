package dev.whatami.server.reports;

import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import dev.whatami.status.TaskStatus;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** The fleet view's rules, one place for every store: what an instance's role is, what counts as failed, the order. */
final class Fleet {
    /** The role of an instance whose run has no task (invalid user-data, no user-data, metadata unreachable). */
    static final String NO_ROLE = "(none)";

    private Fleet() {
    }

    /** What the instance became: its tasks' names in order, joined with {@code +}, e.g. {@code collector.pl}. */
    static String role(RunStatus status) {
        List<TaskStatus> tasks = status.tasks();
        if (tasks.isEmpty()) {
            return NO_ROLE;
        }
        String role = tasks.stream().map(TaskStatus::name).collect(Collectors.joining("+"));
        return role.length() <= 255 ? role : role.substring(0, 254) + "\u2026";
    }

    /** Whether a run in this state needs a person's attention. */
    static boolean isFailure(RunState state) {
        return rank(state) == 0;
    }

    /** Failures first (0), then runs still going (1), then done (2). */
    static int rank(RunState state) {
        return switch (state) {
            case DONE -> 2;
            case RUNNING -> 1;
            default -> 0;
        };
    }

    /** One instance as the fleet view orders and counts it. */
    interface Row {
        String instanceId();

        String role();

        RunState state();

        String provider();

        java.time.Instant receivedAt();
    }

    /** Failures first, then newest first, then by instance id. */
    static final Comparator<Row> ORDER = Comparator.<Row>comparingInt(r -> rank(r.state()))
            .thenComparing(Row::receivedAt, Comparator.reverseOrder()).thenComparing(Row::instanceId);

    /** The fleet counted. */
    static ReportPage.Counts count(Iterable<? extends Row> rows) {
        Counter c = new Counter();
        for (Row r : rows) {
            c.add(r.state(), r.role(), r.provider(), 1);
        }
        return c.counts();
    }

    /**
     * Adds up the fleet from groups of instances alike in state, role and provider (a store that counts elsewhere,
     * e.g. in SQL's {@code GROUP BY}, hands the groups here so the counts follow the same rules). Not thread-safe.
     */
    static final class Counter {
        private long n;
        private final Map<String, Long> byState = new LinkedHashMap<>();
        private final Map<String, Long> byRole = new TreeMap<>();
        private final Map<String, Long> byProvider = new TreeMap<>();
        private final Map<String, Long> failedByRole = new TreeMap<>();

        /** Counts {@code instances} instances in this state, with this role, on this provider. */
        void add(RunState state, String role, String provider, long instances) {
            n += instances;
            byState.merge(state.token(), instances, Long::sum);
            byRole.merge(role, instances, Long::sum);
            byProvider.merge(provider, instances, Long::sum);
            if (isFailure(state)) {
                failedByRole.merge(role, instances, Long::sum);
            }
        }

        ReportPage.Counts counts() {
            return new ReportPage.Counts(n, byState, byRole, byProvider, failedByRole);
        }
    }
}
