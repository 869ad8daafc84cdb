package dev.whatami.fetch;

import dev.whatami.metadata.Sleeper;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** A clock that moves only when the fetcher sleeps: sleeping records the wait and advances the clock by it. */
final class FakeTime extends Clock implements Sleeper {
    private volatile Instant now = Instant.parse("2026-12-01T08:00:00Z");
    final Instant start = now;
    final List<Duration> sleeps = new CopyOnWriteArrayList<>();
    private volatile Consumer<Duration> onSleep = elapsed -> { };

    /** Called after each sleep with the fake time elapsed since the start. */
    FakeTime onSleep(Consumer<Duration> action) {
        this.onSleep = action;
        return this;
    }

    Duration elapsed() {
        return Duration.between(start, now);
    }

    void advance(Duration d) {
        now = now.plus(d);
    }

    @Override
    public void sleep(Duration duration) {
        sleeps.add(duration);
        advance(duration);
        onSleep.accept(elapsed());
    }

    @Override
    public Instant instant() {
        return now;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
