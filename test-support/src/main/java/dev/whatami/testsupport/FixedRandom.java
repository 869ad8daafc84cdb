package dev.whatami.testsupport;

import java.util.random.RandomGenerator;

/**
 * Randomness that is not random: every {@link #nextDouble()} is the same fraction, so a jittered wait is that fraction
 * of its ceiling and a test can assert it exactly. Anything but {@code nextDouble()} fails the test, so code that
 * draws its jitter some other way is noticed. Immutable; thread-safe.
 *
 * <pre>{@code
 * RetryLoop.of(policy, time, time::sleep, FixedRandom.drawing(0.5));
 * }</pre>
 */
public final class FixedRandom implements RandomGenerator {
    private final double fraction;

    private FixedRandom(double fraction) {
        this.fraction = fraction;
    }

    /** Randomness whose every {@link #nextDouble()} is {@code fraction}, in [0, 1). */
    public static FixedRandom drawing(double fraction) {
        if (!(fraction >= 0 && fraction < 1)) {
            throw new IllegalArgumentException("a fraction in [0, 1), got " + fraction);
        }
        return new FixedRandom(fraction);
    }

    @Override
    public double nextDouble() {
        return fraction;
    }

    /** Fails: jitter is drawn with {@link #nextDouble()}. */
    @Override
    public long nextLong() {
        throw new AssertionError("FixedRandom only answers nextDouble(), the draw jitter uses");
    }
}
