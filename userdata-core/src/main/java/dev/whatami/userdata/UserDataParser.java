package dev.whatami.userdata;

import dev.whatami.userdata.internal.Decoder;
import dev.whatami.userdata.internal.LineFormParser;
import dev.whatami.userdata.internal.MimeForm;
import dev.whatami.userdata.internal.SignatureLine;
import dev.whatami.userdata.internal.Sniff;
import dev.whatami.userdata.internal.UserDataLimits;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Turns user-data bytes into a {@link TaskPlan}, following the grammar in {@code docs/user-data.md}: gzip is
 * inflated (bounded), a UTF-8 BOM removed, then the script form ({@code #!}), MIME multipart or the line form
 * (UTF-8, CRLF accepted) is parsed. An inline script may carry its signature: the script form's second line
 * {@code #whatami-signature: <base64>}, a MIME script part's {@code X-Whatami-Signature} header. User-data written for another tool (cloud-config, a boothook, …) is refused with
 * a {@link ForeignFormatException} that names it. Problems and warnings never quote a secret: see
 * {@code docs/user-data.md}, "What messages show". Thread-safe and stateless: one instance can serve any number of
 * threads.
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
    /** Deepest nesting of MIME multiparts accepted. */
    public static final int MAX_MIME_DEPTH = MimeForm.MAX_DEPTH;
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
     * @throws ForeignFormatException when the user-data is written for another boot tool
     * @throws UserDataException      with every problem found, each with line, column and a suggested fix
     */
    public TaskPlan parse(byte[] userData) {
        byte[] bytes = Decoder.gunzipIfNeeded(userData, MAX_INFLATED_BYTES);
        if (startsWith(bytes, Decoder.UTF8_BOM)) {
            bytes = Arrays.copyOfRange(bytes, Decoder.UTF8_BOM.length, bytes.length);
        }
        if (bytes.length >= 2 && bytes[0] == '#' && bytes[1] == '!') {
            Decoder.requireNoNul(bytes);
            SignatureLine.Split split = SignatureLine.split(bytes);
            if (split.problem().isPresent()) {
                throw new UserDataException(new Problem(2, split.column(), "", split.problem().get()));
            }
            TaskSpec.Builder script = TaskSpec.builder(SCRIPT_FORM_NAME, new TaskSource.Inline(split.content()));
            split.signature().ifPresent(script::signature);
            return new TaskPlan(List.of(script.build()), List.of());
        }
        LineFormParser lines = new LineFormParser();
        if (MimeForm.looksLikeMime(bytes)) {
            return new MimeForm(lines, MAX_TEXT_BYTES).parse(bytes);
        }
        Optional<Sniff.Match> foreign = Sniff.of(bytes);
        if (foreign.isPresent()) {
            throw new ForeignFormatException(foreign.get().format(), Problem.whole("this is "
                    + foreign.get().sentence() + "; give whatami task lines such as collector.pl 192.168.7.77, or, "
                    + "to use both, MIME multipart user-data (cloud-init's make-mime) with whatami's lines in a "
                    + "text/x-whatami part."));
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
