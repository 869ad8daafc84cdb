package dev.whatami.metadata;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A clock that moves only when the sleeper is asked to sleep, or when a test advances it. */
final class FakeTime extends Clock implements Sleeper {
    private volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");
    final List<Duration> sleeps = new CopyOnWriteArrayList<>();

    void advance(Duration d) {
        now = now.plus(d);
    }

    @Override
    public void sleep(Duration duration) {
        sleeps.add(duration);
        advance(duration);
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    @Override
    public Instant instant() {
        return now;
    }
}
