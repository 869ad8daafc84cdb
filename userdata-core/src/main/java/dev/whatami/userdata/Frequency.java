package dev.whatami.userdata;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** How often a task runs. The user-data token is {@link #token()}, e.g. {@code frequency=per-boot}. */
public enum Frequency {
    /** Once per instance id: not again on reboot (the default, as in cloud-init). */
    PER_INSTANCE("per-instance"),
    /** Once per boot. */
    PER_BOOT("per-boot"),
    /** Once per image: never again on any instance started from a disk that already ran it. */
    ONCE("once"),
    /** Every time the agent runs. */
    ALWAYS("always");

    private final String token;

    Frequency(String token) {
        this.token = token;
    }

    /** The spelling used in user-data and in JSON files. */
    public String token() {
        return token;
    }

    /** The frequency spelled {@code token}, ignoring case. */
    public static Optional<Frequency> fromToken(String token) {
        String t = token.toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(f -> f.token.equals(t)).findFirst();
    }
}
