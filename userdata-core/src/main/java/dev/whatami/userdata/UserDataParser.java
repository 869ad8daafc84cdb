package dev.whatami.userdata;

import dev.whatami.userdata.internal.Decoder;
import dev.whatami.userdata.internal.LineFormParser;
import dev.whatami.userdata.internal.MimeForm;
import dev.whatami.userdata.internal.UserDataLimits;

/**
 * Turns user-data bytes into a {@link TaskPlan}, following the grammar in DESIGN.md: gzip is inflated
 * (bounded), UTF-8 decoded (BOM removed, CRLF accepted), then the script form ({@code #!}) or the line form
 * is parsed. Thread-safe and stateless: one instance can serve any number of threads.
 *
 * <pre>{@code
 * TaskPlan plan = UserDataParser.create().parse("collector.pl 192.168.7.77".getBytes(UTF_8));
 * }</pre>
 */
public final class UserDataParser {
    /** Largest line-form text accepted, in bytes after decoding: 1 MiB. */
    public static final int MAX_TEXT_BYTES = UserDataLimits.MAX_TEXT_BYTES;
    /** Largest user-data accepted after gunzip: 16 MiB. */
    public static final int MAX_INFLATED_BYTES = UserDataLimits.MAX_INFLATED_BYTES;
    /** Most tasks one user-data may hold. */
    public static final int MAX_TASKS = UserDataLimits.MAX_TASKS;
    /** Longest script name, in UTF-8 bytes. */
    public static final int MAX_NAME_BYTES = UserDataLimits.MAX_NAME_BYTES;
    /** The name given to a script-form task (user-data that starts with {@code #!}). */
    public static final String SCRIPT_FORM_NAME = "user-data-script";

    private UserDataParser() {
    }

    /** A parser with the limits above. */
    public static UserDataParser create() {
        return new UserDataParser();
    }

    /**
     * Parses user-data.
     *
     * @param userData the raw bytes, possibly gzip-compressed
     * @return the plan; never empty of tasks
     * @throws UserDataException with every problem found, each with line, column and a suggested fix
     */
    public TaskPlan parse(byte[] userData) {
        byte[] bytes = Decoder.gunzipIfNeeded(userData, MAX_INFLATED_BYTES);
        if (startsWith(bytes, Decoder.UTF8_BOM)) {
            bytes = java.util.Arrays.copyOfRange(bytes, Decoder.UTF8_BOM.length, bytes.length);
        }
        if (bytes.length >= 2 && bytes[0] == '#' && bytes[1] == '!') {
            Decoder.requireNoNul(bytes);
            TaskSpec script = TaskSpec.builder(SCRIPT_FORM_NAME, new TaskSource.Inline(bytes)).build();
            return new TaskPlan(java.util.List.of(script), java.util.List.of());
        }
        LineFormParser lines = new LineFormParser(MAX_TASKS);
        if (MimeForm.looksLikeMime(bytes)) {
            return new MimeForm(lines, MAX_TASKS, MAX_TEXT_BYTES).parse(bytes);
        }
        if (bytes.length > MAX_TEXT_BYTES) {
            throw new UserDataException(Problem.whole("user-data is " + bytes.length
                    + " bytes of text; the limit for the line form is " + MAX_TEXT_BYTES
                    + " bytes (1 MiB). Keep user-data to task lines; put large content in the scripts."));
        }
        String text = Decoder.utf8(bytes);
        return lines.parse(text);
    }

    private static boolean startsWith(byte[] bytes, byte[] prefix) {
        if (bytes.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
