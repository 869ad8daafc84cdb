package dev.whatami.emulator;

import dev.whatami.emulator.internal.FaultRules;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Faults to inject into the emulator's answers — the failures a metadata client must survive. Change them while the
 * emulator runs; every method is thread-safe and takes effect from the next request on.
 *
 * <p>Faults apply to every path, or, through {@link #forPath(String)}, to one path (or every path under a prefix that
 * ends with {@code /}). Delays add up and come first; then the oldest fault that still has answers left decides how
 * this answer goes. Counts: {@code n} is how many answers the fault takes; {@link #ALWAYS} means every answer until
 * {@link #clear()}.
 *
 * <pre>{@code
 * emulator.faults().failNext(2, 503);                                   // the next two answers, any path
 * emulator.faults().forPath("/latest/api/token").delay(Duration.ofMillis(1500));
 * emulator.faults().forPath("/latest/user-data").dribbleNext(1, Duration.ofSeconds(1));
 * }</pre>
 *
 * Injected faults are never logged above debug, and never with a stack trace.
 */
public final class Faults {
    /** A count meaning every matching answer until {@link #clear()}. */
    public static final int ALWAYS = Integer.MAX_VALUE;

    private final FaultRules rules;
    private final Optional<String> path;

    Faults(FaultRules rules, Optional<String> path) {
        this.rules = rules;
        this.path = path;
    }

    /**
     * The same faults, limited to {@code path} (exact), or to every path under it when it ends with {@code /}.
     * {@link #clear()} on the view clears only its own faults.
     */
    public Faults forPath(String path) {
        Objects.requireNonNull(path, "path");
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("a fault's path starts with /, e.g. /latest/user-data; got " + path);
        }
        return new Faults(rules, Optional.of(path));
    }

    /** Every answer waits {@code delay} before its head is sent; {@link Duration#ZERO} removes the delay. */
    public Faults delay(Duration delay) {
        rules.delay(path, nonNegative(delay, "delay"));
        return this;
    }

    /** EC2 token answers ({@code PUT /latest/api/token}) wait {@code delay}; the rest are unchanged. */
    public Faults slowToken(Duration delay) {
        rules.delay(Optional.of("/latest/api/token"), nonNegative(delay, "delay"));
        return this;
    }

    /**
     * The next {@code n} answers wait {@code delay} before their head, then go on as they would (a slow moment, not
     * a slow service: {@link #delay} is the latter). Adds to any {@link #delay}.
     */
    public Faults slowNext(int n, Duration delay) {
        rules.add(path, FaultRules.Kind.SLOW, count(n), 0, nonNegative(delay, "delay"));
        return this;
    }

    /** The next {@code n} answers are {@code status} (e.g. 500, 503, 429) with a short body. */
    public Faults failNext(int n, int status) {
        rules.add(path, FaultRules.Kind.FAIL, count(n), status(status), null);
        return this;
    }

    /** The next {@code n} answers are {@code status} with {@code Retry-After: <seconds>}. */
    public Faults failNext(int n, int status, Duration retryAfter) {
        nonNegative(retryAfter, "retryAfter");
        rules.add(path, FaultRules.Kind.FAIL, count(n), status(status), retryAfter);
        return this;
    }

    /**
     * The next {@code n} answers send their head (with the full {@code Content-Length}) and half the body, then the
     * connection is reset. An answer without a body is reset right after its head.
     */
    public Faults dropNext(int n) {
        rules.add(path, FaultRules.Kind.DROP, count(n), 0, null);
        return this;
    }

    /** The next {@code n} requests are read and never answered; the connection stays open until the emulator stops. */
    public Faults hangNext(int n) {
        rules.add(path, FaultRules.Kind.HANG, count(n), 0, null);
        return this;
    }

    /** The next {@code n} answers have a chunked body that never ends: the real body, then filler, for ever. */
    public Faults endlessBodyNext(int n) {
        rules.add(path, FaultRules.Kind.ENDLESS, count(n), 0, null);
        return this;
    }

    /** The next {@code n} answers send their body one byte per {@code interval}. */
    public Faults dribbleNext(int n, Duration interval) {
        if (Objects.requireNonNull(interval, "interval").isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval must be positive, got " + interval);
        }
        rules.add(path, FaultRules.Kind.DRIBBLE, count(n), 0, interval);
        return this;
    }

    /** Removes this view's faults (all of them, for the emulator's own {@link MetadataService#faults()}). */
    public Faults clear() {
        rules.clear(path);
        return this;
    }

    private static int count(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("a fault needs a count of at least 1 (or Faults.ALWAYS), got " + n);
        }
        return n;
    }

    private static int status(int status) {
        if (status < 200 || status > 599) {
            throw new IllegalArgumentException("status must be 200 to 599, got " + status);
        }
        return status;
    }

    private static Duration nonNegative(Duration d, String name) {
        if (Objects.requireNonNull(d, name).isNegative()) {
            throw new IllegalArgumentException(name + " must not be negative, got " + d);
        }
        return d;
    }

    @Override
    public String toString() {
        return "Faults" + path.map(p -> "[" + p + "]").orElse("") + rules.describe(path);
    }
}
