package dev.whatami.userdata.internal;

/** The user-data limits (docs/user-data.md), in one place. */
public final class UserDataLimits {
    /** Largest line-form text accepted, in bytes after decoding: 1 MiB. */
    public static final int MAX_TEXT_BYTES = 1 << 20;
    /** Largest user-data accepted after gunzip: 16 MiB. */
    public static final int MAX_INFLATED_BYTES = 16 << 20;
    /** Most tasks one user-data may hold. */
    public static final int MAX_TASKS = 256;
    /** Longest script name, in UTF-8 bytes. */
    public static final int MAX_NAME_BYTES = dev.whatami.userdata.ScriptName.MAX_BYTES;

    /** Most problems (and, apart, warnings) kept and shown; the rest are counted: "and N more". */
    public static final int MAX_PROBLEMS = 100;
    /** Longest word of user-data a message shows whole, in characters; a longer one is cut and its length named. */
    public static final int MAX_SHOWN_WORD = 80;
    /** Longest line of user-data a message shows, in characters. */
    public static final int MAX_SHOWN_LINE = 240;

    private UserDataLimits() {
    }
}
