package dev.whatami.userdata.internal;

import dev.whatami.userdata.Signature;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The signature line of an inline script: its second line, right after {@code #!}, written
 * {@code #whatami-signature: <base64 or URL>}. The signature is over the script without that line (the bytes as they
 * were when signed), and that is what the task carries and runs: sign the script, then insert the line.
 */
public final class SignatureLine {
    private static final Pattern LINE = Pattern.compile("(?i)#[ \t]?whatami-signature:[ \t]*(\\S*)[ \t]*");

    /**
     * What an inline script holds.
     *
     * @param content   the script without its signature line
     * @param signature the signature, if the line gave a valid one
     * @param problem   what is wrong with the line, if anything
     * @param column    where the line's value starts (1-based), for the problem
     */
    public record Split(byte[] content, Optional<Signature> signature, Optional<String> problem, int column) {
    }

    private SignatureLine() {
    }

    /** Splits {@code script} (which starts with {@code #!}) into the signed content and its signature line, if any. */
    public static Split split(byte[] script) {
        int end1 = indexOf(script, 0);
        if (end1 < 0) {
            return new Split(script, Optional.empty(), Optional.empty(), 0);
        }
        int start2 = end1 + 1;
        int end2 = indexOf(script, start2);
        int stop = end2 < 0 ? script.length : end2;
        String line = new String(script, start2, stop - start2, StandardCharsets.UTF_8);
        if (line.endsWith("\r")) {
            line = line.substring(0, line.length() - 1);
        }
        Matcher m = LINE.matcher(line);
        if (!m.matches()) {
            return new Split(script, Optional.empty(), Optional.empty(), 0);
        }
        byte[] content = new byte[start2 + (end2 < 0 ? 0 : script.length - end2 - 1)];
        System.arraycopy(script, 0, content, 0, start2);
        if (end2 >= 0) {
            System.arraycopy(script, end2 + 1, content, start2, script.length - end2 - 1);
        }
        int column = m.start(1) + 1;
        if (m.group(1).isEmpty()) {
            return new Split(content, Optional.empty(), Optional.of("the #whatami-signature: line gives no "
                    + "signature; write the base64 whatami-server sign prints, or remove the line"), column);
        }
        Rules.SignatureWord word = Rules.signature(m.group(1));
        return new Split(content, word.signature(), word.problem().map(p -> "its #whatami-signature: line: " + p),
                column);
    }

    private static int indexOf(byte[] bytes, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == '\n') {
                return i;
            }
        }
        return -1;
    }
}
