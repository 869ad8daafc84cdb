package dev.whatami.testsupport;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Values stated in the docs' prose, each tied to where the code holds it by an HTML comment (invisible when
 * rendered) right after the paragraph, list or table that states it:
 * {@code <!-- checked (agent-app): 16 MiB = dev.whatami.metadata.MetadataClient#MAX_USER_DATA_BYTES -->}. Several
 * checks are separated by {@code ;}. {@code VALUE = REF} holds when the code's value is VALUE (sizes in KiB/MiB/GiB
 * are bytes, {@code 5 min} or {@code 200 ms} a {@code Duration}, or milliseconds where the member's name ends in
 * {@code MS}/{@code MILLIS}); {@code "TEXT" in REF} when the code's text contains TEXT. VALUE (or TEXT) must also
 * appear in the text the comment follows, so the prose and the check cannot part. REF is
 * {@code class#member.member...}: static then instance fields, no-argument methods, or methods whose arguments are
 * {@code "text"} (a String, a Path or its UTF-8 bytes), numbers, or the class's own static fields by name; or
 * {@code file:PATH}, a file of the repository, as text; or {@code file:PATH#REGEX}, the first group of the
 * regular expression's first match there (for a literal the code does not name). A number checked against a
 * duration or size in words may say its unit: {@code REF@ms}, {@code REF@s}, {@code REF@KiB}. (module) names the
 * module whose test classes can load the classes named. Used by agent-app's and server-app's {@code DocsDefaultsTest}.
 */
public final class DocChecks {
    public static final List<String> MODULES = List.of("agent-app", "server-app");
    private static final Pattern COMMENT = Pattern.compile("<!-- checked \\(([a-z-]+)\\): (.*) -->");

    public record Check(String where, String value, String op, String ref, String text, Path repo) {
    }

    private DocChecks() {
    }

    /** The checks of {@code module} in {@code repo}'s README.md and docs/*.md. */
    public static List<Check> read(Path repo, String module) throws IOException {
        List<Path> files = new ArrayList<>();
        files.add(repo.resolve("README.md"));
        try (java.util.stream.Stream<Path> docs = Files.list(repo.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
        }
        List<Check> out = new ArrayList<>();
        for (Path f : files) {
            for (Check c : parse(f, Files.readAllLines(f, StandardCharsets.UTF_8), module)) {
                out.add(new Check(c.where(), c.value(), c.op(), c.ref(), c.text(), repo));
            }
        }
        return out;
    }

    public static List<Check> parse(Path file, List<String> lines, String module) {
        List<Check> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = COMMENT.matcher(lines.get(i).strip());
            if (!m.matches()) {
                continue;
            }
            if (!MODULES.contains(m.group(1))) {
                throw new AssertionError(file + ":" + (i + 1) + ": checked by " + m.group(1) + ", which is none of "
                        + MODULES);
            }
            if (!m.group(1).equals(module)) {
                continue;
            }
            String text = block(lines, i);
            for (String one : m.group(2).split("; ")) {
                Matcher c = Pattern.compile("^(\"[^\"]*\"|.+?) (=|in) (\\S+)$").matcher(one.strip());
                if (!c.matches()) {
                    throw new AssertionError(file + ":" + (i + 1) + ": not VALUE = REF or \"TEXT\" in REF: " + one);
                }
                String value = c.group(1).startsWith("\"") ? c.group(1).substring(1, c.group(1).length() - 1)
                        : c.group(1);
                out.add(new Check(file + ":" + (i + 1), value, c.group(2), c.group(3), text, Path.of(".")));
            }
        }
        return out;
    }

    /**
     * The lines before line {@code at} back to a blank line (skipping blank lines and comments right before); a
     * fenced code block whole.
     */
    private static String block(List<String> lines, int at) {
        int i = at - 1;
        while (i >= 0 && (lines.get(i).isBlank() || COMMENT.matcher(lines.get(i).strip()).matches())) {
            i--;
        }
        StringBuilder sb = new StringBuilder();
        boolean fenced = i >= 0 && lines.get(i).startsWith("```");
        if (fenced) { // a code block, blank lines and all, up to its opening fence
            sb.insert(0, lines.get(i--) + "\n");
            while (i >= 0 && !lines.get(i).startsWith("```")) {
                sb.insert(0, lines.get(i--) + "\n");
            }
        }
        while (i >= 0 && !lines.get(i).isBlank()) {
            sb.insert(0, lines.get(i) + "\n");
            i--;
        }
        return sb.toString().replace("\n", " ");
    }

    public static void verify(Check c) throws ReflectiveOperationException {
        if (!c.text().contains(c.value())) {
            throw new AssertionError("\"" + c.value() + "\" is checked but not in the text before the comment");
        }
        Matcher suffix = Pattern.compile("^(.*)@(ms|s|KiB)$").matcher(c.ref());
        String ref = suffix.matches() ? suffix.group(1) : c.ref();
        Object code = resolve(ref, c.repo());
        String member = ref.substring(ref.lastIndexOf('#') + 1);
        if (suffix.matches() && code instanceof Number n) {
            code = switch (suffix.group(2)) {
                case "ms" -> Duration.ofMillis(n.longValue());
                case "s" -> Duration.ofSeconds(n.longValue());
                default -> n.longValue() << 10;
            };
        }
        if (c.op().equals("in")) {
            if (!String.valueOf(code).contains(c.value())) {
                throw new AssertionError("\"" + c.value() + "\" is not in " + c.ref());
            }
            return;
        }
        Object doc = docValue(c.value());
        Object have = code;
        if (code instanceof Number n && doc instanceof Duration) {
            String unit = member.replaceAll("\\(.*", "").toUpperCase(Locale.ROOT);
            if (!unit.endsWith("MS") && !unit.endsWith("MILLIS")) {
                throw new AssertionError(c.ref() + " is a number, not a duration; name one in milliseconds");
            }
            have = Duration.ofMillis(n.longValue());
        } else if (code instanceof Number n) {
            have = n.longValue();
        } else if (!(code instanceof Duration)) {
            have = String.valueOf(code);
        }
        if (!have.equals(doc)) {
            throw new AssertionError("the doc says " + c.value() + ", " + c.ref() + " is " + code);
        }
    }

    /** {@code 64 MiB}, {@code 1 KiB/s} and {@code 256 KiB} as bytes, {@code 5 min} as a Duration, {@code 50,000}. */
    public static Object docValue(String v) {
        Matcher size = Pattern.compile("^([\\d,]+) ?(bytes|KiB|MiB|GiB)(/s)?$").matcher(v);
        if (size.matches()) {
            long n = Long.parseLong(size.group(1).replace(",", ""));
            return switch (size.group(2)) {
                case "KiB" -> n << 10;
                case "MiB" -> n << 20;
                case "GiB" -> n << 30;
                default -> n;
            };
        }
        Matcher time = Pattern.compile("^([\\d,]+) ?(ms|s|seconds?|min|minutes?|h|hours?)$").matcher(v);
        if (time.matches()) {
            long n = Long.parseLong(time.group(1).replace(",", ""));
            return switch (time.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "min", "minute", "minutes" -> Duration.ofMinutes(n);
                case "h", "hour", "hours" -> Duration.ofHours(n);
                default -> Duration.ofSeconds(n);
            };
        }
        if (v.matches("^[\\d,]+$")) {
            return Long.parseLong(v.replace(",", ""));
        }
        return v;
    }

    public static Object resolve(String ref, Path repo) throws ReflectiveOperationException {
        if (ref.startsWith("file:")) {
            String[] pathAndPattern = ref.substring("file:".length()).split("#", 2);
            String text;
            try {
                text = Files.readString(repo.resolve(pathAndPattern[0]), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new AssertionError("cannot read " + ref + ": " + e.getMessage());
            }
            if (pathAndPattern.length == 1) {
                return text;
            }
            Matcher m = Pattern.compile(pathAndPattern[1]).matcher(text);
            if (!m.find()) {
                throw new AssertionError(pathAndPattern[0] + " no longer has " + pathAndPattern[1]);
            }
            String found = m.group(1).replace("_", "");
            return found.matches("\\d+") ? (Object) Long.parseLong(found) : found;
        }
        int hash = ref.indexOf('#');
        if (hash < 0) {
            throw new AssertionError("not class#member or file:PATH: " + ref);
        }
        Class<?> owner = Class.forName(ref.substring(0, hash));
        Class<?> type = owner;
        Object value = null;
        for (String segment : segments(ref.substring(hash + 1))) {
            int paren = segment.indexOf('(');
            String name = paren < 0 ? segment : segment.substring(0, paren);
            if (paren < 0) {
                Field f = findField(type, name);
                if (f != null) {
                    value = f.get(java.lang.reflect.Modifier.isStatic(f.getModifiers()) ? null : value);
                } else {
                    value = invoke(owner, type, value, name, List.of());
                }
            } else {
                String args = segment.substring(paren + 1, segment.length() - 1).strip();
                value = invoke(owner, type, value, name, args.isEmpty() ? List.of() : List.of(args.split(",\\s*")));
            }
            if (value == null) {
                throw new AssertionError(ref + ": " + segment + " is null");
            }
            type = value.getClass();
        }
        return value;
    }

    private static List<String> segments(String chain) {
        List<String> out = new ArrayList<>();
        int depth = 0;
        boolean quoted = false;
        StringBuilder sb = new StringBuilder();
        for (char ch : chain.toCharArray()) {
            if (ch == '"') {
                quoted = !quoted;
            } else if (!quoted && ch == '(') {
                depth++;
            } else if (!quoted && ch == ')') {
                depth--;
            } else if (!quoted && depth == 0 && ch == '.') {
                out.add(sb.toString());
                sb.setLength(0);
                continue;
            }
            sb.append(ch);
        }
        out.add(sb.toString());
        return out;
    }

    private static Field findField(Class<?> type, String name) {
        for (Class<?> t = type; t != null; t = t.getSuperclass()) {
            try {
                Field f = t.getDeclaredField(name);
                f.setAccessible(true);
                return f;
            } catch (NoSuchFieldException e) {
                // up the hierarchy
            }
        }
        return null;
    }

    private static Object invoke(Class<?> owner, Class<?> type, Object target, String name, List<String> args)
            throws ReflectiveOperationException {
        List<java.lang.reflect.Method> candidates = new ArrayList<>();
        for (Class<?> t = type; t != null; t = t.getSuperclass()) {
            candidates.addAll(List.of(t.getDeclaredMethods()));
        }
        candidates.addAll(List.of(type.getMethods()));
        for (java.lang.reflect.Method m : candidates) {
            if (!m.getName().equals(name) || m.getParameterCount() != args.size()) {
                continue;
            }
            Object[] values = new Object[args.size()];
            Class<?>[] types = m.getParameterTypes();
            for (int i = 0; i < values.length; i++) {
                values[i] = argument(owner, args.get(i).strip(), types[i]);
            }
            if (!m.trySetAccessible()) { // a JDK class's implementation (List.of's): call it through its interface
                m = publicOne(type, m);
            }
            return m.invoke(java.lang.reflect.Modifier.isStatic(m.getModifiers()) ? null : target, values);
        }
        throw new NoSuchMethodException(type.getName() + " has no field or method " + name + " of " + args.size()
                + " arguments");
    }

    /** {@code m} as a public interface or superclass of {@code type} declares it. */
    private static java.lang.reflect.Method publicOne(Class<?> type, java.lang.reflect.Method m)
            throws NoSuchMethodException {
        List<Class<?>> types = new ArrayList<>();
        for (Class<?> t = type; t != null; t = t.getSuperclass()) {
            types.add(t);
        }
        for (int i = 0; i < types.size(); i++) {
            for (Class<?> in : types.get(i).getInterfaces()) {
                if (!types.contains(in)) {
                    types.add(in);
                }
            }
        }
        for (Class<?> t : types) {
            if (java.lang.reflect.Modifier.isPublic(t.getModifiers()) && t.getModule().isExported(t.getPackageName())) {
                try {
                    return t.getMethod(m.getName(), m.getParameterTypes());
                } catch (NoSuchMethodException e) {
                    // the next one
                }
            }
        }
        throw new NoSuchMethodException(type.getName() + "." + m.getName() + " cannot be called from here");
    }

    private static Object argument(Class<?> owner, String arg, Class<?> type) throws ReflectiveOperationException {
        if (arg.startsWith("\"")) {
            String s = arg.substring(1, arg.length() - 1);
            return type == Path.class ? Path.of(s) : type == byte[].class ? s.getBytes(StandardCharsets.UTF_8) : s;
        }
        if (arg.matches("[A-Z][A-Z0-9_]*")) {
            Field f = findField(owner, arg);
            if (f == null) {
                throw new NoSuchFieldException(owner.getName() + "." + arg);
            }
            return f.get(null);
        }
        long n = Long.parseLong(arg);
        return type == int.class || type == Integer.class ? (Object) (int) n : (Object) n;
    }
}
