package dev.whatami.run.internal;

import dev.whatami.run.TaskRunException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** Chooses how a script is run: {@code as=} &gt; {@code #!} line &gt; extension &gt; refuse. */
final class Interpreters {
    static final Map<String, String> BY_EXTENSION = Map.of(
            "sh", "/bin/sh", "bash", "bash", "pl", "perl", "py", "python3", "rb", "ruby");
    private static final int MAX_SHEBANG = 512;

    private Interpreters() {
    }

    /** The argv prefix that runs {@code script}: the interpreter and any shebang argument. */
    static List<String> prefix(Path script, Optional<String> as) {
        if (as.isPresent()) {
            return List.of(as.get());
        }
        Optional<List<String>> shebang = shebang(script);
        if (shebang.isPresent()) {
            return shebang.get();
        }
        String name = script.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String ext = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
        String byExt = BY_EXTENSION.get(ext);
        if (byExt != null) {
            return List.of(byExt);
        }
        throw new TaskRunException("cannot tell how to run " + name + ": no as= in the user-data, no #! line in the "
                + "script, and " + (ext.isEmpty() ? "no extension" : "the extension ." + ext + " is not one of .sh "
                + ".bash .pl .py .rb") + ". Add a #! line to the script or as=<interpreter> to its user-data line.",
                null);
    }

    /** Linux semantics: {@code #!interpreter [one optional argument]}. */
    private static Optional<List<String>> shebang(Path script) {
        byte[] head;
        try (InputStream in = Files.newInputStream(script)) {
            head = in.readNBytes(MAX_SHEBANG);
        } catch (IOException e) {
            throw new TaskRunException("cannot read " + script + ": " + e.getMessage(), e);
        }
        if (head.length < 2 || head[0] != '#' || head[1] != '!') {
            return Optional.empty();
        }
        String line = new String(head, StandardCharsets.UTF_8);
        int nl = line.indexOf('\n');
        line = (nl < 0 ? line : line.substring(0, nl)).substring(2).strip();
        if (line.endsWith("\r")) {
            line = line.substring(0, line.length() - 1).strip();
        }
        if (line.isEmpty()) {
            throw new TaskRunException("the #! line of " + script.getFileName() + " names no interpreter; write e.g. "
                    + "#!/bin/sh", null);
        }
        String[] parts = line.split("[ \t]+", 2);
        if (parts[0].startsWith("/") && !Files.isExecutable(Path.of(parts[0]))) {
            throw new TaskRunException("the #! line of " + script.getFileName() + " names " + parts[0]
                    + ", which is not an executable on this machine; install it, fix the #! line, or set "
                    + "as=<interpreter> on the task's user-data line", null);
        }
        List<String> argv = new ArrayList<>(2);
        argv.add(parts[0]);
        if (parts.length > 1) {
            argv.add(parts[1].strip());
        }
        return Optional.of(argv);
    }
}
