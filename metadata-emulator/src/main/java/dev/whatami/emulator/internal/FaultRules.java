package dev.whatami.emulator.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;

/** The faults in force, and what they make of the next answer. Thread-safe: every method holds the lock. */
public final class FaultRules {
    /** What a fault does to an answer. */
    public enum Kind { SLOW, FAIL, DROP, HANG, ENDLESS, DRIBBLE }

    private static final class Rule {
        final Optional<String> scope;
        final Kind kind;
        int remaining;
        final int status;
        final Duration duration;

        Rule(Optional<String> scope, Kind kind, int remaining, int status, Duration duration) {
            this.scope = scope;
            this.kind = kind;
            this.remaining = remaining;
            this.status = status;
            this.duration = duration;
        }
    }

    /**
     * What to do with one answer.
     *
     * @param delay      wait this long before the head
     * @param kind       the fault, or null for none
     * @param status     for {@link Kind#FAIL}
     * @param duration   Retry-After for {@link Kind#FAIL} (may be null), the interval for {@link Kind#DRIBBLE}
     */
    public record Plan(Duration delay, Kind kind, int status, Duration duration) {
        static final Plan NONE = new Plan(Duration.ZERO, null, 0, null);
    }

    private final List<Rule> rules = new ArrayList<>();
    private final List<Rule> delays = new ArrayList<>();

    public synchronized void add(Optional<String> scope, Kind kind, int count, int status, Duration duration) {
        rules.add(new Rule(scope, kind, count, status, duration));
    }

    public synchronized void delay(Optional<String> scope, Duration delay) {
        delays.removeIf(r -> r.scope.equals(scope));
        if (!delay.isZero()) {
            delays.add(new Rule(scope, null, Integer.MAX_VALUE, 0, delay));
        }
    }

    public synchronized void clear(Optional<String> scope) {
        if (scope.isEmpty()) {
            rules.clear();
            delays.clear();
        } else {
            rules.removeIf(r -> r.scope.equals(scope));
            delays.removeIf(r -> r.scope.equals(scope));
        }
    }

    /** The plan for an answer to {@code path}; takes one from the count of the fault it uses. */
    public synchronized Plan next(String path) {
        if (rules.isEmpty() && delays.isEmpty()) {
            return Plan.NONE;
        }
        Duration delay = Duration.ZERO;
        for (Rule r : delays) {
            if (matches(r.scope, path)) {
                delay = delay.plus(r.duration);
            }
        }
        for (Iterator<Rule> it = rules.iterator(); it.hasNext(); ) {
            Rule r = it.next();
            if (!matches(r.scope, path)) {
                continue;
            }
            if (r.remaining != Integer.MAX_VALUE) {
                r.remaining--;
            }
            if (r.remaining <= 0) {
                it.remove();
            }
            if (r.kind == Kind.SLOW) {
                delay = delay.plus(r.duration); // and the answer goes on: look further
                continue;
            }
            return new Plan(delay, r.kind, r.status, r.duration);
        }
        return new Plan(delay, null, 0, null);
    }

    static boolean matches(Optional<String> scope, String path) {
        if (scope.isEmpty()) {
            return true;
        }
        String s = scope.get();
        return s.endsWith("/") ? path.startsWith(s) : path.equals(s);
    }

    public synchronized String describe(Optional<String> scope) {
        List<String> parts = new ArrayList<>();
        for (Rule r : delays) {
            if (scope.isEmpty() || r.scope.equals(scope)) {
                parts.add(r.scope.map(s -> s + " ").orElse("") + "delay " + r.duration);
            }
        }
        for (Rule r : rules) {
            if (scope.isEmpty() || r.scope.equals(scope)) {
                parts.add(r.scope.map(s -> s + " ").orElse("") + r.kind.name().toLowerCase(java.util.Locale.ROOT)
                        + (r.kind == Kind.FAIL ? " " + r.status : "") + " x"
                        + (r.remaining == Integer.MAX_VALUE ? "always" : Integer.toString(r.remaining)));
            }
        }
        return parts.toString();
    }
}
