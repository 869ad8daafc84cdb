package dev.whatami.status;

/** Bounds on what a status document may hold, so a report from a stranger stays small. */
final class StatusLimits {
    static final int MAX_ID = 255;
    static final int MAX_MESSAGE = 4096;
    static final int MAX_TEXT = 1024;
    static final int MAX_TASKS = 256;
    static final int MAX_PROBLEMS = 1000;
    static final int MAX_HISTORY = 20;

    private StatusLimits() {
    }

    /** {@code s} cut to {@code max} characters, with an ellipsis when cut. */
    static String clip(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "\u2026";
    }
}
