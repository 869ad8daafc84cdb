package dev.whatami.fetch;

import java.time.Duration;

/** Waits between attempts. Tests inject one that records instead of sleeping. */
@FunctionalInterface
public interface Sleeper {
    /** The real thing: {@link Thread#sleep(long)}. */
    Sleeper SYSTEM = d -> Thread.sleep(d.toMillis());

    void sleep(Duration duration) throws InterruptedException;
}
