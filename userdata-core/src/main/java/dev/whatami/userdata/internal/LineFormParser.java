package dev.whatami.userdata.internal;

import dev.whatami.userdata.Digest;
import dev.whatami.userdata.DigestAlgorithm;
import dev.whatami.userdata.Frequency;
import dev.whatami.userdata.Problem;
import dev.whatami.userdata.ScriptName;
import dev.whatami.userdata.TaskPlan;
import dev.whatami.userdata.TaskSource;
import dev.whatami.userdata.TaskSpec;
import dev.whatami.userdata.UserDataException;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The line form: one task per line, {@code <script> <server> [key=value ...] [-- arg ...]} or
 * {@code <url> [key=value ...] [-- arg ...]}. Collects every problem before throwing.
 */
public final class LineFormParser {
    static final List<String> KEYS = List.of("sha256", "sha512", "mirror", "frequency", "retries", "timeout",
            "as", "env.NAME", "report");
    private static final Set<String> REPEATABLE = Set.of("mirror");
    private static final Pattern KEY = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]*");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern TIMEOUT = Pattern.compile("([0-9]{1,9})([smh])");
    private static final Pattern INTERPRETER = Pattern.compile("[A-Za-z0-9._/+-]+");
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");
    private static final String DOUBLE_QUOTES = "\"\u201C\u201D\u201E";
    private static final String SINGLE_QUOTES = "\u2018\u2019\u201A";
    private static final String TYPOGRAPHIC = "\u201C\u201D\u201E\u201F\u2018\u2019\u201A\u201B\u00AB\u00BB";
    private static final int MAX_RETRIES = 1000;

    private final int maxTasks;

    public LineFormParser(int maxTasks) {
        this.maxTasks = maxTasks;
    }

    /** What one pass over line-form text found; nothing thrown, nothing checked for emptiness. */
    public record Result(List<TaskSpec> tasks, List<Problem> problems, List<Problem> warnings) {
    }

    /** Parses line-form user-data; throws every problem at once, or when it holds no task. */
    public TaskPlan parse(String text) {
        Result r = parseLines(text, 0);
        if (!r.problems().isEmpty()) {
            throw new UserDataException(r.problems());
        }
        if (r.tasks().isEmpty()) {
            String what = text.isBlank() ? "user-data is empty" : "user-data holds no task, only comments";
            throw new UserDataException(Problem.whole(what + "; write one task per line, e.g. "
                    + "collector.pl 192.168.7.77 (or send no user-data at all to run nothing)."));
        }
        return new TaskPlan(r.tasks(), r.warnings());
    }

    /**
     * Parses line-form text, collecting problems instead of throwing.
     *
     * @param tasksBefore tasks already planned (by earlier MIME parts), counted against the task limit
     */
    public Result parseLines(String text, int tasksBefore) {
        List<Problem> problems = new ArrayList<>();
        List<Problem> warnings = new ArrayList<>();
        List<TaskSpec> tasks = new ArrayList<>();
        String[] lines = text.split("\r\n|\n|\r", -1);
        boolean tooMany = false;
        for (int i = 0; i < lines.length; i++) {
            int before = problems.size();
            Optional<TaskSpec> task = new Line(i + 1, lines[i], problems, warnings).parse();
            if (task.isPresent() && problems.size() == before) {
                if (tasksBefore + tasks.size() >= maxTasks) {
                    if (!tooMany) {
                        problems.add(new Problem(i + 1, 0, "", "more than " + maxTasks + " tasks (the limit); "
                                + "this is task " + (tasksBefore + tasks.size() + 1) + ". Run fewer tasks, or one "
                                + "script that starts the others."));
                        tooMany = true;
                    }
                } else {
                    tasks.add(task.get());
                }
            }
        }
        return new Result(tasks, problems, warnings);
    }

    /** One token of a line and the 1-based column where it starts. */
    private record Token(String text, int column) {
    }

    /** The state of parsing one line. */
    private final class Line {
        private final int number;
        private final String raw;
        private final List<Problem> problems;
        private final List<Problem> warnings;
        private final Set<String> seenKeys = new HashSet<>();
        private String content;
        private int offset; // columns of raw before content starts

        Line(int number, String raw, List<Problem> problems, List<Problem> warnings) {
            this.number = number;
            this.raw = raw;
            this.problems = problems;
            this.warnings = warnings;
        }

        Optional<TaskSpec> parse() {
            String trimmed = raw.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                return Optional.empty();
            }
            for (int i = 0; i < raw.length(); i++) {
                char c = raw.charAt(i);
                if (Character.isISOControl(c) && c != '\t') {
                    error(i + 1, String.format("\\u%04x", (int) c), String.format("control character U+%04X; "
                            + "user-data must be plain text. Retype the line.", (int) c));
                    return Optional.empty();
                }
            }
            offset = raw.indexOf(trimmed);
            content = trimmed;
            unwrapQuotes();
            int typographic = indexOfTypographic(content);
            if (typographic >= 0) {
                String plain = stripTypographic(content);
                error(offset + typographic + 1, String.valueOf(content.charAt(typographic)),
                        "\"" + content.charAt(typographic) + "\" is a typographic quote; user-data pasted from a "
                                + "web page? Use plain text: " + plain);
                return Optional.empty();
            }
            List<Token> tokens = tokenize();
            if (tokens.isEmpty()) {
                error(offset + 1, content, "the quotes hold no task; write e.g. collector.pl 192.168.7.77");
                return Optional.empty();
            }
            Token first = tokens.get(0);
            if (first.text().contains("://") || first.text().toLowerCase(Locale.ROOT).startsWith("file:")) {
                return urlTask(first, tokens.subList(1, tokens.size()));
            }
            return namedTask(first, tokens);
        }

        private void unwrapQuotes() {
            if (content.length() < 2) {
                return;
            }
            char open = content.charAt(0);
            char close = content.charAt(content.length() - 1);
            boolean doubles = DOUBLE_QUOTES.indexOf(open) >= 0 && DOUBLE_QUOTES.indexOf(close) >= 0;
            boolean singles = SINGLE_QUOTES.indexOf(open) >= 0 && SINGLE_QUOTES.indexOf(close) >= 0;
            if (doubles || singles) {
                String inner = content.substring(1, content.length() - 1);
                String innerTrimmed = inner.strip();
                int lead = inner.indexOf(innerTrimmed);
                warnings.add(new Problem(number, offset + 1, String.valueOf(open),
                        "removed the quotes " + open + "…" + close + " around the line; user-data needs none. "
                                + "Write: " + stripTypographic(innerTrimmed)));
                offset += 1 + Math.max(lead, 0);
                content = innerTrimmed;
            }
        }

        private List<Token> tokenize() {
            List<Token> tokens = new ArrayList<>();
            boolean literal = false;
            int i = 0;
            while (i < content.length()) {
                while (i < content.length() && isBlank(content.charAt(i))) {
                    i++;
                }
                if (i >= content.length()) {
                    break;
                }
                int start = i;
                while (i < content.length() && !isBlank(content.charAt(i))) {
                    i++;
                }
                String word = content.substring(start, i);
                if (!literal && word.startsWith("#")) {
                    break; // a trailing comment, as in DESIGN.md's examples
                }
                if (word.equals("--")) {
                    literal = true;
                }
                tokens.add(new Token(word, offset + start + 1));
            }
            return tokens;
        }

        private Optional<TaskSpec> namedTask(Token first, List<Token> tokens) {
            String name = first.text();
            if (name.contains("=")) {
                error(first, "a task line starts with the script's name or URL, not a key; write e.g. "
                        + "collector.pl 192.168.7.77 " + name);
                return Optional.empty();
            }
            if (!validName(name, first.column())) {
                return Optional.empty();
            }
            if (tokens.size() < 2 || tokens.get(1).text().contains("=") || tokens.get(1).text().equals("--")) {
                int column = tokens.size() < 2 ? offset + content.length() + 1 : tokens.get(1).column();
                error(column, "", "missing server after \"" + name + "\"; write " + name + " <server> "
                        + "[key=value ...], e.g. " + name + " 192.168.7.77, or give the script's full URL.");
                return Optional.empty();
            }
            Token serverToken = tokens.get(1);
            Optional<String> server = server(serverToken);
            if (server.isEmpty()) {
                return Optional.empty();
            }
            Optional<URI> url = toUri(serverToken, "http://" + server.get() + "/scriptserver/" + name);
            return url.isEmpty() ? Optional.empty() : options(name, url.get(), server.get(), tokens.subList(2, tokens.size()));
        }

        private Optional<TaskSpec> urlTask(Token first, List<Token> rest) {
            Optional<URI> url = url(first, first.text(), Set.of("http", "https", "file"));
            if (url.isEmpty()) {
                return Optional.empty();
            }
            String path = url.get().getPath();
            String name = path == null ? "" : path.substring(path.lastIndexOf('/') + 1);
            if (name.isEmpty()) {
                error(first, "the URL names no file (it ends in \"/\"); give the script's own URL, e.g. "
                        + "https://files.example/roles/collector.pl");
                return Optional.empty();
            }
            if (!validName(name, first.column())) {
                return Optional.empty();
            }
            return options(name, url.get(), url.get().getRawAuthority(), rest);
        }

        private Optional<URI> url(Token token, String text, Set<String> schemes) {
            URI uri;
            try {
                uri = new URI(text);
            } catch (URISyntaxException e) {
                error(token, "\"" + text + "\" is not a valid URL (" + e.getReason() + " at index "
                        + e.getIndex() + "); percent-encode spaces and special characters.");
                return Optional.empty();
            }
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!schemes.contains(scheme)) {
                error(token, "unsupported URL scheme \"" + scheme + "\" in " + text + "; use one of "
                        + String.join(", ", schemes.stream().sorted().toList()) + ".");
                return Optional.empty();
            }
            if (!scheme.equals("file") && (uri.getHost() == null || uri.getHost().isEmpty())) {
                error(token, "the URL " + text + " has no host; write e.g. https://files.example/roles/collector.pl");
                return Optional.empty();
            }
            return Optional.of(uri);
        }

        private boolean validName(String name, int column) {
            Optional<String> problem = ScriptName.problem(name);
            problem.ifPresent(message -> error(column, name, message));
            return problem.isEmpty();
        }

        private Optional<String> server(Token token) {
            String text = token.text();
            if (text.contains("://")) {
                error(token, "give the server as host[:port], not a URL (\"" + text + "\"); or write the "
                        + "script's full URL as the first word instead of its name.");
                return Optional.empty();
            }
            String host;
            String port = null;
            if (text.startsWith("[")) {
                int close = text.indexOf(']');
                if (close < 0) {
                    error(token, "\"" + text + "\" opens \"[\" without closing it; write an IPv6 server as "
                            + "[fd00::1] or [fd00::1]:8080.");
                    return Optional.empty();
                }
                host = text.substring(1, close);
                String after = text.substring(close + 1);
                if (!after.isEmpty()) {
                    if (!after.startsWith(":")) {
                        error(token, "unexpected \"" + after + "\" after \"]\"; write [IPv6]:port, e.g. [fd00::1]:8080.");
                        return Optional.empty();
                    }
                    port = after.substring(1);
                }
                if (!host.contains(":") || host.contains("%") || !com.google.common.net.InetAddresses.isInetAddress(host)) {
                    error(token, "\"" + host + "\" in brackets is not an IPv6 address; write e.g. [fd00::1]:8080.");
                    return Optional.empty();
                }
            } else {
                int colons = (int) text.chars().filter(c -> c == ':').count();
                if (colons > 1) {
                    error(token, "\"" + text + "\" looks like an IPv6 address; put it in brackets: [" + text + "]"
                            + " or [" + text + "]:8080.");
                    return Optional.empty();
                }
                int colon = text.indexOf(':');
                host = colon < 0 ? text : text.substring(0, colon);
                port = colon < 0 ? null : text.substring(colon + 1);
                if (!validHost(token, host)) {
                    return Optional.empty();
                }
            }
            if (port != null && !validPort(token, port)) {
                return Optional.empty();
            }
            return Optional.of(text);
        }

        private boolean validHost(Token token, String host) {
            if (host.isEmpty()) {
                error(token, "the server \"" + token.text() + "\" has no host; write e.g. 192.168.7.77 or "
                        + "files.example:8080.");
                return false;
            }
            if (host.matches("[0-9.]+")) {
                String[] parts = host.split("\\.", -1);
                boolean ok = parts.length == 4;
                for (String part : parts) {
                    ok &= !part.isEmpty() && part.length() <= 3 && Integer.parseInt(part) <= 255;
                }
                if (!ok) {
                    error(token, "\"" + host + "\" is not an IPv4 address: it needs four numbers 0-255 "
                            + "separated by dots, e.g. 192.168.7.77.");
                }
                return ok;
            }
            boolean ok = host.length() <= 253;
            for (String label : host.split("\\.", -1)) {
                ok &= LABEL.matcher(label).matches();
            }
            if (!ok) {
                error(token, "\"" + host + "\" is not a valid host name (letters, digits and '-' in labels "
                        + "separated by dots); write e.g. files.example or 192.168.7.77.");
            }
            return ok;
        }

        private boolean validPort(Token token, String port) {
            if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
                error(token, "port \"" + port + "\" in \"" + token.text() + "\" is out of range; use a number "
                        + "1-65535, e.g. " + token.text().substring(0, token.text().lastIndexOf(':')) + ":8080.");
                return false;
            }
            return true;
        }

        private Optional<TaskSpec> options(String name, URI url, String server, List<Token> tokens) {
            List<URI> mirrors = new ArrayList<>();
            TaskSpec.Builder spec = TaskSpec.builder(name, new TaskSource.Remote(url, List.of()));
            if (server != null) { // file: URLs have no server
                spec.server(server);
            }
            boolean literal = false;
            boolean ok = true;
            for (Token token : tokens) {
                String word = token.text();
                if (literal) {
                    spec.arg(word);
                    continue;
                }
                if (word.equals("--")) {
                    literal = true;
                    continue;
                }
                int eq = word.indexOf('=');
                if (eq > 0 && KEY.matcher(word.substring(0, eq)).matches()) {
                    ok &= option(name, url, spec, mirrors, token, word.substring(0, eq), word.substring(eq + 1));
                } else {
                    spec.arg(word); // the seed's bare extra words
                }
            }
            if (!ok) {
                return Optional.empty();
            }
            return Optional.of(spec.source(new TaskSource.Remote(url, mirrors)).build());
        }

        private boolean option(String name, URI url, TaskSpec.Builder spec, List<URI> mirrors, Token token,
                               String key, String value) {
            String lower = key.toLowerCase(Locale.ROOT);
            boolean isEnv = lower.startsWith("env.");
            String identity = isEnv ? key : lower;
            if (!isEnv && !KEYS.contains(lower)) {
                String nearest = nearestKey(lower);
                error(token, "unknown key \"" + key + "\"" + (nearest == null ? "." : "; did you mean \""
                        + nearest + "\"?") + " Known keys: " + String.join(", ", KEYS) + ". If \"" + token.text()
                        + "\" is an argument for the script, put it after --: " + name + " <server> -- "
                        + token.text());
                return false;
            }
            if (!REPEATABLE.contains(identity) && !seenKeys.add(identity)) {
                error(token.column(), key, "\"" + key + "\" is given twice; keep one.");
                return false;
            }
            if (value.isEmpty() && !isEnv) {
                error(token, "\"" + key + "=\" has no value; write e.g. " + example(lower));
                return false;
            }
            switch (isEnv ? "env" : lower) {
                case "sha256", "sha512" -> {
                    DigestAlgorithm algorithm = lower.equals("sha256") ? DigestAlgorithm.SHA256 : DigestAlgorithm.SHA512;
                    if (seenKeys.contains("sha256") && seenKeys.contains("sha512")) {
                        error(token, "give one digest, sha256= or sha512=, not both.");
                        return false;
                    }
                    if (value.length() != algorithm.hexLength() || !value.matches("[0-9A-Fa-f]+")) {
                        error(token, key + " must be " + algorithm.hexLength() + " hex digits, got " + value.length()
                                + " characters; compute it with: " + algorithm.key() + "sum " + name);
                        return false;
                    }
                    spec.digest(new Digest(algorithm, value));
                }
                case "mirror" -> {
                    Optional<URI> mirror = mirror(token, value, url);
                    if (mirror.isEmpty()) {
                        return false;
                    }
                    mirrors.add(mirror.get());
                }
                case "frequency" -> {
                    Optional<Frequency> frequency = Frequency.fromToken(value);
                    if (frequency.isEmpty()) {
                        error(token, "frequency \"" + value + "\" is not one of per-instance, per-boot, once, always.");
                        return false;
                    }
                    spec.frequency(frequency.get());
                }
                case "retries" -> {
                    if (!value.matches("[0-9]{1,4}") || Integer.parseInt(value) > MAX_RETRIES) {
                        error(token, "retries must be a whole number 0-" + MAX_RETRIES + ", got \"" + value
                                + "\"; e.g. retries=3.");
                        return false;
                    }
                    spec.retries(Integer.parseInt(value));
                }
                case "timeout" -> {
                    Matcher m = TIMEOUT.matcher(value);
                    if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
                        error(token, "timeout \"" + value + "\" must be a positive number followed by s, m or h; "
                                + "e.g. timeout=90s, timeout=10m, timeout=2h.");
                        return false;
                    }
                    long n = Long.parseLong(m.group(1));
                    spec.timeout(switch (m.group(2)) {
                        case "s" -> Duration.ofSeconds(n);
                        case "m" -> Duration.ofMinutes(n);
                        default -> Duration.ofHours(n);
                    });
                }
                case "as" -> {
                    if (!INTERPRETER.matcher(value).matches()) {
                        error(token, "interpreter \"" + value + "\" must be a program name or absolute path, e.g. "
                                + "as=perl or as=/usr/bin/python3.");
                        return false;
                    }
                    spec.interpreter(value);
                }
                case "report" -> {
                    Optional<URI> report = url(token, value, Set.of("http", "https"));
                    if (report.isEmpty()) {
                        return false;
                    }
                    spec.report(report.get());
                }
                default -> { // env.NAME
                    String envName = key.substring(4);
                    if (!ENV_NAME.matcher(envName).matches()) {
                        error(token.column(), key, "environment variable name \"" + envName + "\" must be letters, digits and "
                                + "'_', not starting with a digit; e.g. env.ROLE=collector.");
                        return false;
                    }
                    spec.env(envName, value);
                }
            }
            return true;
        }

        private Optional<URI> mirror(Token token, String value, URI primary) {
            if (value.contains("://") || value.toLowerCase(Locale.ROOT).startsWith("file:")) {
                return url(token, value, Set.of("http", "https", "file"));
            }
            Optional<String> server = server(new Token(value, token.column() + "mirror=".length()));
            if (server.isEmpty()) {
                return Optional.empty();
            }
            String scheme = primary.getScheme().equalsIgnoreCase("file") ? "http" : primary.getScheme();
            return toUri(token, scheme + "://" + server.get() + primary.getRawPath());
        }

        /** The URL built from validated parts; a last check, since java.net.URI is stricter than some of them. */
        private Optional<URI> toUri(Token token, String url) {
            try {
                return Optional.of(new URI(url));
            } catch (URISyntaxException e) {
                error(token, "\"" + token.text() + "\" does not make a valid URL (" + e.getReason()
                        + "); write the server as host[:port], e.g. 192.168.7.77:8080.");
                return Optional.empty();
            }
        }

        private void error(Token token, String message) {
            error(token.column(), token.text(), message);
        }

        private void error(int column, String text, String message) {
            problems.add(new Problem(number, column, text, message));
        }
    }

    private static String example(String key) {
        return switch (key) {
            case "sha256" -> "sha256=<64 hex digits from sha256sum>";
            case "sha512" -> "sha512=<128 hex digits from sha512sum>";
            case "mirror" -> "mirror=192.168.7.78";
            case "frequency" -> "frequency=per-boot";
            case "retries" -> "retries=3";
            case "timeout" -> "timeout=10m";
            case "as" -> "as=perl";
            default -> "report=http://192.168.7.77:8080/reports";
        };
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t';
    }

    private static int indexOfTypographic(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (TYPOGRAPHIC.indexOf(s.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    private static String stripTypographic(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.chars().filter(c -> TYPOGRAPHIC.indexOf(c) < 0 && c != '"').forEach(c -> b.append((char) c));
        return b.toString().strip();
    }

    /** The known key closest to {@code key} by edit distance, if it is close enough to be a typo. */
    static String nearestKey(String key) {
        if (key.length() >= 2) {
            for (String candidate : KEYS) {
                if (candidate.startsWith(key)) {
                    return candidate;
                }
            }
        }
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : KEYS) {
            String k = candidate.equals("env.NAME") ? "env" : candidate;
            int d = editDistance(key, k);
            if (d < bestDistance) {
                bestDistance = d;
                best = candidate;
            }
        }
        return bestDistance <= Math.max(2, key.length() / 3) ? best : null;
    }

    static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
