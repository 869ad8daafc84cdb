package dev.whatami.userdata.internal;

import dev.whatami.userdata.Frequency;
import dev.whatami.userdata.Problem;
import dev.whatami.userdata.ScriptName;
import dev.whatami.userdata.TaskPlan;
import dev.whatami.userdata.TaskSource;
import dev.whatami.userdata.TaskSpec;
import dev.whatami.userdata.UserDataException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.james.mime4j.MimeException;
import org.apache.james.mime4j.stream.EntityState;
import org.apache.james.mime4j.stream.Field;
import org.apache.james.mime4j.stream.MimeConfig;
import org.apache.james.mime4j.stream.MimeTokenStream;

/**
 * MIME multipart user-data, as cloud-init, EKS and AWS Batch write it. Parsed by Apache James mime4j
 * (transfer encodings decoded by it); each part is handled by its own type and every ignored part is
 * reported as a warning, never dropped silently.
 */
public final class MimeForm {
    private static final Map<String, Frequency> SHELL_TYPES = Map.of(
            "text/x-shellscript", Frequency.PER_INSTANCE,
            "text/x-shellscript-per-instance", Frequency.PER_INSTANCE,
            "text/x-shellscript-per-boot", Frequency.PER_BOOT,
            "text/x-shellscript-per-once", Frequency.ONCE);
    private static final List<String> LINE_TYPES = List.of("text/x-whatami", "text/plain");
    private static final Pattern FILENAME = Pattern.compile("(?i)filename\\s*=\\s*(\"([^\"]*)\"|([^;\\s]+))");

    private final LineFormParser lines;
    private final int maxTasks;
    private final int maxTextBytes;

    public MimeForm(LineFormParser lines, int maxTasks, int maxTextBytes) {
        this.lines = lines;
        this.maxTasks = maxTasks;
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
        List<TaskSpec> tasks = new ArrayList<>();
        List<Problem> problems = new ArrayList<>();
        List<Problem> warnings = new ArrayList<>();
        MimeTokenStream stream = new MimeTokenStream(new MimeConfig.Builder()
                .setMaxLineLen(-1).setMaxHeaderLen(64 * 1024).setMaxHeaderCount(1000).build());
        stream.parse(new ByteArrayInputStream(bytes));
        int part = 0;
        int depth = 0;
        boolean multipart = false;
        String filename = null;
        String topContentType = null;
        try {
            for (EntityState state = stream.next(); state != EntityState.T_END_OF_STREAM; state = stream.next()) {
                switch (state) {
                    case T_START_MULTIPART -> {
                        multipart = true;
                        depth++;
                    }
                    case T_END_MULTIPART -> depth--;
                    case T_START_HEADER -> filename = null;
                    case T_FIELD -> {
                        Field f = stream.getField();
                        if (f.getName().equalsIgnoreCase("Content-Disposition")) {
                            Matcher m = FILENAME.matcher(f.getBody());
                            if (m.find()) {
                                filename = m.group(2) != null ? m.group(2) : m.group(3);
                            }
                        } else if (f.getName().equalsIgnoreCase("Content-Type") && depth == 0 && part == 0
                                && topContentType == null) {
                            topContentType = f.getBody();
                        }
                    }
                    case T_BODY -> {
                        String type = stream.getBodyDescriptor().getMimeType().toLowerCase(Locale.ROOT);
                        if (depth == 0 && topContentType != null
                                && topContentType.strip().toLowerCase(Locale.ROOT).startsWith("multipart/")) {
                            problems.add(new Problem(1, 1, "Content-Type", "the MIME message says \""
                                    + topContentType.strip() + "\" but gives no boundary; add boundary=\"...\" to "
                                    + "its Content-Type header, matching the --... lines between its parts."));
                            continue;
                        }
                        part++;
                        String label = "MIME part " + part + " (" + type + ")";
                        byte[] body = readDecoded(stream, label, problems);
                        if (body == null) {
                            continue;
                        }
                        handlePart(part, label, type, filename, body, charset(stream), tasks, problems, warnings);
                    }
                    default -> {
                        // preamble, epilogue, headers: nothing to do
                    }
                }
            }
        } catch (MimeException | IOException e) {
            problems.add(Problem.whole("the MIME user-data cannot be parsed: " + e.getMessage()
                    + "; check its headers and boundaries (e.g. make it with cloud-init's make-mime)."));
        }
        if (!multipart && problems.isEmpty() && tasks.isEmpty() && part == 0) {
            problems.add(Problem.whole("the MIME user-data holds no body; give it parts of type text/x-shellscript, "
                    + "text/x-whatami or text/plain."));
        }
        if (!problems.isEmpty()) {
            throw new UserDataException(problems);
        }
        if (tasks.isEmpty()) {
            throw new UserDataException(Problem.whole("the MIME user-data holds no task: "
                    + (warnings.isEmpty() ? "its parts are empty" : "every part was ignored ("
                    + warnings.size() + ")") + ". Add a text/x-shellscript or text/x-whatami part."));
        }
        return new TaskPlan(tasks, warnings);
    }

    private static Charset charset(MimeTokenStream stream) {
        String name = stream.getBodyDescriptor().getCharset();
        try {
            Charset cs = name == null ? StandardCharsets.UTF_8 : Charset.forName(name);
            return cs.equals(StandardCharsets.US_ASCII) ? StandardCharsets.UTF_8 : cs;
        } catch (IllegalArgumentException e) {
            return StandardCharsets.UTF_8;
        }
    }

    private byte[] readDecoded(MimeTokenStream stream, String label, List<Problem> problems) throws IOException {
        try (InputStream in = stream.getDecodedInputStream()) {
            byte[] body = in.readNBytes(UserDataLimits.MAX_INFLATED_BYTES + 1);
            if (body.length > UserDataLimits.MAX_INFLATED_BYTES) {
                problems.add(Problem.whole(label + " is larger than " + UserDataLimits.MAX_INFLATED_BYTES
                        + " bytes (16 MiB), the limit."));
                return null;
            }
            return body;
        }
    }

    private void handlePart(int part, String label, String type, String filename, byte[] body, Charset charset,
                            List<TaskSpec> tasks, List<Problem> problems, List<Problem> warnings) {
        Frequency frequency = SHELL_TYPES.get(type);
        if (frequency != null) {
            if (body.length < 2 || body[0] != '#' || body[1] != '!') {
                problems.add(Problem.whole(label + " does not start with #!; make its first line the interpreter, "
                        + "e.g. #!/bin/sh"));
                return;
            }
            if (tasks.size() >= maxTasks) {
                problems.add(Problem.whole(label + " is task " + (tasks.size() + 1) + "; the limit is " + maxTasks
                        + " tasks."));
                return;
            }
            String name = String.format("part-%03d", part);
            if (filename != null) {
                Optional<String> problem = ScriptName.problem(filename);
                if (problem.isEmpty()) {
                    name = filename;
                } else {
                    warnings.add(Problem.whole(label + ": the task is called " + name + " because its filename is "
                            + "not a script name: " + problem.get()));
                }
            }
            tasks.add(TaskSpec.builder(name, new TaskSource.Inline(body)).frequency(frequency).build());
            return;
        }
        if (LINE_TYPES.contains(type)) {
            if (body.length > maxTextBytes) {
                problems.add(Problem.whole(label + " is " + body.length + " bytes of text; the limit is "
                        + maxTextBytes + " bytes (1 MiB)."));
                return;
            }
            String text;
            try {
                text = Decoder.utf8(body);
            } catch (UserDataException e) {
                e.problems().forEach(p -> problems.add(Problem.whole(label + ": " + p.message())));
                return;
            }
            if (text.startsWith("\uFEFF")) {
                text = text.substring(1);
            }
            LineFormParser.Result r = lines.parseLines(text, tasks.size());
            r.problems().forEach(p -> problems.add(inPart(label, p)));
            r.warnings().forEach(p -> warnings.add(inPart(label, p)));
            tasks.addAll(r.tasks());
            return;
        }
        warnings.add(Problem.whole(label + " is ignored: whatami runs text/x-shellscript, text/x-whatami and "
                + "text/plain parts" + (type.equals("text/cloud-config") ? " (cloud-config is cloud-init's)" : "")));
    }

    private static Problem inPart(String label, Problem p) {
        return new Problem(p.line(), p.column(), p.text(), label + ": " + p.message());
    }
}
