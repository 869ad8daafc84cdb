package dev.whatami.server.reports;

import dev.whatami.status.RunState;
import java.util.Objects;
import java.util.Optional;

/**
 * Which reports a page shows: filters (each empty for all) and the slice.
 *
 * @param role     only instances with this role (their tasks' names joined with {@code +}, see {@link Fleet#role})
 * @param state    only instances whose run is in this state
 * @param provider only instances on this provider ({@code ec2}, {@code gce}, …)
 * @param offset   how many matching reports to skip
 * @param limit    most reports to return
 */
public record ReportQuery(Optional<String> role, Optional<RunState> state, Optional<String> provider, int offset,
        int limit) {
    /** Largest page. */
    public static final int MAX_LIMIT = 1000;

    public ReportQuery {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(provider, "provider");
        if (offset < 0 || limit < 0) {
            throw new IllegalArgumentException("offset and limit must be >= 0");
        }
    }

    /** Everything, in one list. */
    public static ReportQuery all() {
        return new ReportQuery(Optional.empty(), Optional.empty(), Optional.empty(), 0, Integer.MAX_VALUE);
    }

    /** Whether a report of this role, state and provider matches the filters. */
    boolean matches(String role, RunState state, String provider) {
        return this.role.map(role::equals).orElse(true) && this.state.map(s -> s == state).orElse(true)
                && this.provider.map(provider::equals).orElse(true);
    }
}
