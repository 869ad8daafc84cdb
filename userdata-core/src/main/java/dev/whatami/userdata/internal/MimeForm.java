package dev.whatami.userdata.internal;

import dev.whatami.userdata.ForeignFormat;
import dev.whatami.userdata.Frequency;
import dev.whatami.userdata.Problem;
import dev.whatami.userdata.ScriptName;
import dev.whatami.userdata.Signature;
import dev.whatami.userdata.TaskPlan;
import dev.whatami.userdata.TaskSource;
import dev.whatami.userdata.TaskSpec;
import dev.whatami.userdata.UserDataException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.james.mime4j.MimeException;
import org.apache.james.mime4j.io.MaxHeaderLengthLimitException;
import org.apache.james.mime4j.io.MaxHeaderLimitException;
import org.apache.james.mime4j.stream.EntityState;
import org.apache.james.mime4j.stream.Field;
import org.apache.james.mime4j.stream.MimeConfig;
import org.apache.james.mime4j.stream.MimeTokenStream;
import org.apache.james.mime4j.stream.RecursionMode;

/**
 * MIME multipart user-data, as cloud-init, EKS and AWS Batch write it. Parsed by Apache James mime4j
 * (transfer encodings decoded by it); each part is handled by its own type and every ignored part is
 * reported as a warning, never dropped silently. Multiparts nest at most {@value #MAX_DEPTH} deep.
 */
public final class MimeForm {
    /** How deep multiparts may nest (a multipart in a multipart is depth 2). */
    public static final int MAX_DEPTH = 10;
    private static final Map<String, Frequency> SHELL_TYPES = Map.of(
            "text/x-shellscript", Frequency.PER_INSTANCE,
            "text/x-shellscript-per-instance", Frequency.PER_INSTANCE,
            "text/x-shellscript-per-boot", Frequency.PER_BOOT,
            "text/x-shellscript-per-once", Frequency.ONCE);
    private static final String WHATAMI_TYPE = "text/x-whatami";
    private static final String PLAIN_TYPE = "text/plain";
    /** The header of a MIME script part that carries its signature (over the part's decoded body). */
    public static final String SIGNATURE_HEADER = "X-Whatami-Signature";
    private static final Pattern FILENAME = Pattern.compile("(?i)filename\\s*=\\s*(\"([^\"]*)\"|([^;\\s]+))");

    private final LineFormParser lines;
    private final int maxTextBytes;

    public MimeForm(LineFormParser lines, int maxTextBytes) {
        this.lines = lines;
        this.maxTextBytes = maxTextBytes;
    }

    /** Whether the data starts with a MIME header (after optional blank lines). */
    public static boolean looksLikeMime(byte[] bytes) {
        int i = 0;
        while (i < bytes.length && (bytes[i] == '\r' || bytes[i] == '\n' || bytes[i] == ' ' || bytes[i] == '\t')) {
            i++;
        }
        String head = new String(bytes, i, Math.min(bytes.length - i, 16), StandardCharsets.ISO_8859_1)
                .toLowerCase(Locale.ROOT);
        return head.startsWith("content-type:") || head.startsWith("mime-version:");
    }

    public TaskPlan parse(byte[] bytes) {
        PlanBuilder plan = new PlanBuilder(UserDataLimits.MAX_TASKS);
        MimeTokenStream stream = new MimeTokenStream(new MimeConfig.Builder()
                .setMaxLineLen(-1).setMaxHeaderLen(64 * 1024).setMaxHeaderCount(1000).build());
        stream.setRecursionMode(RecursionMode.M_NO_RECURSE); // an attached message is a part, not more nesting
        stream.parse(new ByteArrayInputStream(bytes));
        int part = 0;
        int depth = 0;
        boolean multipart = false;
        String filename = null;
        String signatureHeader = null;
        String topContentType = null;
        try {
            loop:
            for (EntityState state = stream.next(); state != EntityState.T_END_OF_STREAM; state = stream.next()) {
                switch (state) {
                    case T_START_MULTIPART -> {
                        multipart = true;
                        if (++depth > MAX_DEPTH) {
                            plan.problem(Problem.whole("the MIME user-data nests multiparts more than " + MAX_DEPTH
                                    + " deep (a multipart part inside a multipart, and so on); whatami reads at most "
                                    + MAX_DEPTH + " levels. Put the parts side by side in one multipart/mixed (as "
                                    + "cloud-init's make-mime writes it)."));
                            break loop; // reading deeper would only nest the parser's streams deeper
                        }
                    }
                    case T_END_MULTIPART -> depth--;
                    case T_START_HEADER -> {
                        filename = null;
                        signatureHeader = null;
                    }
                    case T_FIELD -> {
                        Field f = stream.getField();
                        if (f.getName().equalsIgnoreCase("Content-Disposition")) {
                            Matcher m = FILENAME.matcher(f.getBody());
                            if (m.find()) {
                                filename = m.group(2) != null ? m.group(2) : m.group(3);
                            }
                        } else if (f.getName().equalsIgnoreCase(SIGNATURE_HEADER)) {
                            signatureHeader = f.getBody().strip();
                        } else if (f.getName().equalsIgnoreCase("Content-Type") && depth == 0 && part == 0
                                && topContentType == null) {
                            topContentType = f.getBody();
                        }
                    }
                    case T_BODY -> {
                        String type = stream.getBodyDescriptor().getMimeType().toLowerCase(Locale.ROOT);
                        if (depth == 0 && topContentType != null
                                && topContentType.strip().toLowerCase(Locale.ROOT).startsWith("multipart/")) {
                            plan.problem(new Problem(1, 1, "Content-Type", "the MIME message says \""
                                    + Shown.word(topContentType.strip().split(";")[0].strip()) + "\" but gives no boundary; add boundary=\"...\" to its "
                                    + "Content-Type header, matching the --... lines between its parts."));
                            continue;
                        }
                        part++;
                        PlanBuilder.Origin origin = new PlanBuilder.Origin("MIME part " + part + " ("
                                + Shown.word(type) + ")", "MIME part " + part);
                        byte[] body = readDecoded(stream, origin, plan);
                        if (body != null) {
                            handlePart(new Part(part, origin, type, filename, signatureHeader), body, plan);
                        }
                    }
                    default -> {
                        // preamble, epilogue, headers: nothing to do
                    }
                }
            }
        } catch (MimeException | IOException e) {
            plan.problem(Problem.whole("the MIME user-data cannot be parsed: " + reason(e) + "; check its headers and "
                    + "boundaries (e.g. make it with cloud-init's make-mime)."));
        }
        if (!multipart && part == 0 && plan.problemCount() == 0) {
            plan.problem(Problem.whole("the MIME user-data holds no body; give it parts of type text/x-shellscript, "
                    + "text/x-whatami or text/plain."));
        }
        List<Problem> warnings = plan.warnings();
        return plan.plan(Problem.whole("the MIME user-data holds no task: " + (warnings.isEmpty()
                ? "its parts are empty" : "every part was ignored (" + warnings.size() + ")")
                + ". Add a text/x-shellscript or text/x-whatami part."));
    }

    /** Why mime4j gave up, in words that quote nothing from the user-data (its own messages may). */
    private static String reason(Exception e) {
        if (e instanceof MaxHeaderLimitException) {
            return "a part has more than 1000 header fields";
        }
        if (e instanceof MaxHeaderLengthLimitException) {
            return "a header is longer than 64 KiB";
        }
        return e instanceof MimeException ? "a header or boundary is malformed" : "it ends in the middle of a part";
    }

    private static byte[] readDecoded(MimeTokenStream stream, PlanBuilder.Origin origin, PlanBuilder plan)
            throws IOException {
        try (InputStream in = stream.getDecodedInputStream()) {
            byte[] body = in.readNBytes(UserDataLimits.MAX_INFLATED_BYTES + 1);
            if (body.length > UserDataLimits.MAX_INFLATED_BYTES) {
                plan.problem(Problem.whole(origin.label() + " is larger than " + UserDataLimits.MAX_INFLATED_BYTES
                        + " bytes (16 MiB), the limit."));
                return null;
            }
            return body;
        }
    }

    /** A part's number, how messages name it, its type, and the headers whatami reads. */
    private record Part(int number, PlanBuilder.Origin origin, String type, String filename, String signature) {
    }

    private void handlePart(Part p, byte[] body, PlanBuilder plan) {
        Frequency frequency = SHELL_TYPES.get(p.type());
        if (frequency != null) {
            scriptPart(p, frequency, body, plan);
            return;
        }
        Optional<ForeignFormat> foreign = Sniff.ofMimeType(p.type());
        if (foreign.isPresent()) {
            plan.warning(Problem.whole(p.origin().label() + " is " + foreign.get().description() + ", which "
                    + foreign.get().whoRunsIt() + " and whatami does not: ignored."));
            return;
        }
        if (p.type().equals(WHATAMI_TYPE) || p.type().equals(PLAIN_TYPE)) {
            if (p.signature() != null) {
                plan.problem(Problem.whole(p.origin().label() + " has an " + SIGNATURE_HEADER + " header, but only "
                        + "script parts (text/x-shellscript) are signed; task lines are not: sign the scripts they "
                        + "name (sig= on each line) and drop the header."));
                return;
            }
            linePart(p.origin(), p.type(), body, plan);
            return;
        }
        plan.warning(Problem.whole(p.origin().label() + " is ignored: whatami runs text/x-shellscript, text/x-whatami "
                + "and text/plain parts."));
    }

    private static void scriptPart(Part p, Frequency frequency, byte[] body, PlanBuilder plan) {
        PlanBuilder.Origin origin = p.origin();
        if (body.length < 2 || body[0] != '#' || body[1] != '!') {
            String what = Sniff.of(body).map(m -> " It is " + m.sentence() + "; give it Content-Type: "
                    + m.format().mimeType() + ", or make it a script.").orElse("");
            plan.problem(Problem.whole(origin.label() + " does not start with #!; make its first line the "
                    + "interpreter, e.g. #!/bin/sh." + what));
            return;
        }
        String name = String.format("part-%03d", p.number());
        if (p.filename() != null) {
            Optional<String> problem = ScriptName.problem(p.filename());
            if (problem.isEmpty()) {
                name = p.filename();
            } else {
                plan.warning(Problem.whole(origin.label() + ": the task is called " + name + " because its filename "
                        + "is not a script name: " + problem.get().replace(p.filename(), Shown.word(p.filename()))));
            }
        }
        SignatureLine.Split split = SignatureLine.split(body);
        if (split.problem().isPresent()) {
            plan.problem(new Problem(2, split.column(), "", origin.prefix() + split.problem().get()));
            return;
        }
        Optional<Signature> signature = split.signature();
        if (p.signature() != null) {
            if (signature.isPresent()) {
                plan.problem(Problem.whole(origin.label() + " carries two signatures, an " + SIGNATURE_HEADER
                        + " header and a #whatami-signature: line; keep one."));
                return;
            }
            Rules.SignatureWord header = Rules.signature(p.signature());
            if (header.problem().isPresent()) {
                plan.problem(Problem.whole(origin.label() + ": its " + SIGNATURE_HEADER + " header: "
                        + header.problem().get()));
                return;
            }
            signature = header.signature();
        }
        TaskSpec.Builder task = TaskSpec.builder(name, new TaskSource.Inline(split.content())).frequency(frequency);
        signature.ifPresent(task::signature);
        plan.partTask(task.build(), origin);
    }

    private void linePart(PlanBuilder.Origin origin, String type, byte[] body, PlanBuilder plan) {
        if (body.length > maxTextBytes) {
            plan.problem(Problem.whole(origin.label() + " is " + body.length + " bytes of text; the limit is "
                    + maxTextBytes + " bytes (1 MiB)."));
            return;
        }
        Optional<Sniff.Match> foreign = Sniff.of(body);
        boolean script = body.length >= 2 && body[0] == '#' && body[1] == '!';
        if (type.equals(PLAIN_TYPE) && (foreign.isPresent() || script)) {
            // cloud-init reads a text/plain part by how it starts: such a part is cloud-init's, not ours
            plan.warning(Problem.whole(origin.label() + " is " + foreign.map(Sniff.Match::sentence)
                    .orElse("a script (it starts with #!), which cloud-init runs from a text/plain part and whatami "
                            + "runs only from a text/x-shellscript part") + ": ignored."));
            return;
        }
        if (foreign.isPresent() || script) {
            plan.problem(Problem.whole(origin.label() + " is " + foreign.map(m -> m.sentence() + "; give it "
                    + "Content-Type: " + m.format().mimeType()).orElse("a script (it starts with #!); give it "
                    + "Content-Type: text/x-shellscript") + ", or write task lines in it."));
            return;
        }
        String text;
        try {
            text = Decoder.utf8(body);
        } catch (UserDataException e) {
            e.problems().forEach(p -> plan.problem(Problem.whole(origin.prefix() + p.message())));
            return;
        }
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        lines.parseLines(text, origin, plan);
    }
}
