package dev.whatami.testsupport;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Time that passes only when the code under test waits or the test moves it: a {@link Clock} (UTC) whose
 * {@link #sleep(Duration)} records the wait and advances the clock by it, so backoff and deadlines cost no real time.
 * Give it to code under test as its clock and, with {@code time::sleep}, as its sleeper. Thread-safe.
 *
 * <pre>{@code
 * FakeTime time = new FakeTime();
 * MetadataClient client = MetadataClient.builder().clock(time).sleeper(time::sleep).build();
 * ...
 * assertThat(time.sleeps()).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
 * }</pre>
 */
public final class FakeTime extends Clock {
    /** Where a {@code new FakeTime()} starts. */
    public static final Instant DEFAULT_START = Instant.parse("2026-01-01T00:00:00Z");

    private final Instant start;
    private volatile Instant now;
    private volatile Duration tick = Duration.ZERO;
    private final List<Duration> sleeps = new CopyOnWriteArrayList<>();
    private final List<Consumer<Duration>> onSleep = new CopyOnWriteArrayList<>();

    /** A clock at {@link #DEFAULT_START}. */
    public FakeTime() {
        this(DEFAULT_START);
    }

    /** A clock at {@code start}. */
    public FakeTime(Instant start) {
        this.start = Objects.requireNonNull(start, "start");
        this.now = start;
    }

    /**
     * Makes every later reading ({@link #instant()}, {@link #millis()}) move the clock on by {@code step} first, for
     * code that must see time pass between two readings (an order by time of arrival). Not a wait.
     *
     * @return this clock
     */
    public FakeTime ticking(Duration step) {
        if (step.isNegative()) {
            throw new IllegalArgumentException("time does not go back: ticking(" + step + ")");
        }
        this.tick = step;
        return this;
    }

    /** The time now, as the last reading saw it: never ticks (see {@link #ticking}). */
    public Instant now() {
        return now;
    }

    /** Where this clock started. */
    public Instant start() {
        return start;
    }

    /** The fake time that has passed since the start. */
    public Duration elapsed() {
        return Duration.between(start, now);
    }

    /** Moves the clock on by {@code d}, as the world's work between waits does; not a wait. */
    public synchronized void advance(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("time does not go back: advance(" + d + ")");
        }
        now = now.plus(d);
    }

    /**
     * The sleeper: records the wait, advances the clock by it, then runs each {@link #onSleep} action with the time
     * elapsed since the start. Never blocks.
     */
    public void sleep(Duration d) {
        Duration elapsed;
        synchronized (this) {
            advance(d);
            sleeps.add(d);
            elapsed = elapsed();
        }
        onSleep.forEach(action -> action.accept(elapsed));
    }

    /** Every wait so far, in order. A live list: a test may clear it between phases. */
    public List<Duration> sleeps() {
        return sleeps;
    }

    /** The sum of the waits so far. */
    public Duration slept() {
        return sleeps.stream().reduce(Duration.ZERO, Duration::plus);
    }

    /**
     * Adds an action run after every wait with the time elapsed since the start (e.g. to start a server once enough
     * time has passed, or to fail the test when a wait ran past a deadline).
     *
     * @return this clock
     */
    public FakeTime onSleep(Consumer<Duration> action) {
        onSleep.add(Objects.requireNonNull(action, "action"));
        return this;
    }

    /** The time now; on a {@link #ticking} clock, after the tick. */
    @Override
    public Instant instant() {
        if (tick.isZero()) {
            return now;
        }
        synchronized (this) {
            now = now.plus(tick);
            return now;
        }
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    /** This clock: it is always UTC, and a copy in another zone would stop moving with it. */
    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
