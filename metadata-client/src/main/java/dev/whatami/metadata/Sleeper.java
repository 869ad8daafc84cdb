package dev.whatami.metadata;

import java.time.Duration;

/** Waits between attempts. Tests inject one that only advances a fake clock. */
@FunctionalInterface
public interface Sleeper {
    /** The real thing: {@link Thread#sleep(long)}. */
    Sleeper SYSTEM = d -> Thread.sleep(d.toMillis());

    void sleep(Duration duration) throws InterruptedException;
}
