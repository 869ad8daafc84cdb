package dev.whatami.userdata.internal;

import dev.whatami.userdata.Digest;
import dev.whatami.userdata.DigestAlgorithm;
import dev.whatami.userdata.Frequency;
import dev.whatami.userdata.Problem;
import dev.whatami.userdata.ScriptName;
import dev.whatami.userdata.Signature;
import dev.whatami.userdata.TaskPlan;
import dev.whatami.userdata.TaskSource;
import dev.whatami.userdata.TaskSpec;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The line form: one task per line, {@code <script> <server> [key=value ...] [-- arg ...]} or
 * {@code <url> [key=value ...] [-- arg ...]}. Reports every problem of every line — a bad word does not hide the
 * ones after it — and shows user-data only as {@link Shown} allows.
 */
public final class LineFormParser {
    static final List<String> KEYS = List.of("sha256", "sha512", "mirror", "frequency", "retries", "timeout",
            "as", "env.NAME", "report", "sig");
    private static final Set<String> REPEATABLE = Set.of("mirror");
    private static final Pattern KEY = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]*");
    private static final Pattern TIMEOUT = Pattern.compile("([0-9]{1,9})([smh])");
    private static final String DOUBLE_QUOTES = "\"\u201C\u201D\u201E";
    private static final String SINGLE_QUOTES = "\u2018\u2019\u201A";

    /** Parses line-form user-data; throws every problem at once, or when it holds no task. */
    public TaskPlan parse(String text) {
        PlanBuilder plan = new PlanBuilder(UserDataLimits.MAX_TASKS);
        parseLines(text, PlanBuilder.Origin.WHOLE, plan);
        String what = text.isBlank() ? "user-data is empty" : "user-data holds no task, only comments";
        return plan.plan(Problem.whole(what + "; write one task per line, e.g. collector.pl 192.168.7.77 (or send no "
                + "user-data at all to run nothing)."));
    }

    /** Parses line-form text from {@code origin} into {@code plan}, collecting problems instead of throwing. */
    public void parseLines(String text, PlanBuilder.Origin origin, PlanBuilder plan) {
        String[] lines = text.split("\r\n|\n|\r", -1);
        for (int i = 0; i < lines.length; i++) {
            new Line(i + 1, lines[i], origin, plan).parse();
        }
    }

    /** One token of a line and the 1-based column where it starts. */
    private record Token(String text, int column) {
    }

    /**
     * What the first words of a line say: the script's name and URL, each null when a problem was reported; and
     * where the options start.
     */
    private record Head(String name, URI url, int optionsFrom) {
    }

    /** The state of parsing one line. */
    private final class Line {
        private final int number;
        private final String raw;
        private final PlanBuilder.Origin origin;
        private final PlanBuilder plan;
        private final int problemsBefore;
        private final Set<String> seenKeys = new HashSet<>();
        private String content;
        private int offset; // columns of raw before content starts
        private String shownName = "<script>"; // how messages name the script

        // the options, as read
        private Digest digest;
        private final List<URI> mirrors = new ArrayList<>();
        private Frequency frequency;
        private Integer retries;
        private Duration timeout;
        private String interpreter;
        private URI report;
        private Signature signature;
        private final Map<String, String> env = new LinkedHashMap<>();
        private final List<String> args = new ArrayList<>();

        Line(int number, String raw, PlanBuilder.Origin origin, PlanBuilder plan) {
            this.number = number;
            this.raw = raw;
            this.origin = origin;
            this.plan = plan;
            this.problemsBefore = plan.problemCount();
        }

        void parse() {
            String trimmed = raw.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#") || !plainText(trimmed)) {
                return;
            }
            content = trimmed;
            unwrapQuotes();
            int typographic = indexOfTypographic(content);
            if (typographic >= 0) {
                error(offset + typographic + 1, String.valueOf(content.charAt(typographic)),
                        "\"" + content.charAt(typographic) + "\" is a typographic quote; user-data pasted from a "
                                + "web page? Use plain text: " + Shown.line(stripTypographic(content)));
                return;
            }
            List<Token> tokens = tokenize();
            if (tokens.isEmpty()) {
                error(offset + 1, "", "the quotes hold no task; write e.g. collector.pl 192.168.7.77");
                return;
            }
            Token first = tokens.get(0);
            Head head;
            if (Shown.isUrl(first.text())) {
                head = urlHead(first);
            } else if (first.text().contains("=")) {
                error(first, "a task line starts with the script's name or URL, not a key; write e.g. "
                        + "collector.pl 192.168.7.77 " + Shown.word(first.text()));
                return;
            } else {
                head = namedHead(first, tokens);
            }
            options(tokens.subList(head.optionsFrom(), tokens.size()), head.url());
            if (head.name() != null && head.url() != null && plan.problemCount() == problemsBefore) {
                build(head, first).ifPresent(task -> plan.lineTask(task, origin, number, first.column()));
            }
        }

        /** Refuses control characters, and Unicode spaces between words; false when it did. */
        private boolean plainText(String trimmed) {
            for (int i = 0; i < raw.length(); i++) {
                char c = raw.charAt(i);
                if (Character.isISOControl(c) && c != '\t') {
                    error(i + 1, String.format("\\u%04x", (int) c), String.format("control character U+%04X; "
                            + "user-data must be plain text. Retype the line.", (int) c));
                    return false;
                }
            }
            offset = raw.indexOf(trimmed);
            for (int i = 0; i < trimmed.length(); i++) {
                char c = trimmed.charAt(i);
                if (c != ' ' && c != '\t' && (Character.isWhitespace(c) || Character.isSpaceChar(c))) {
                    error(offset + i + 1, String.format("\\u%04x", (int) c), String.format("U+%04X is %s; "
                            + "user-data separates words with plain spaces. Type a space instead (pasted from a "
                            + "web page?).", (int) c, Rules.describe(c)));
                    return false;
                }
            }
            return true;
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
                plan.warning(new Problem(number, offset + 1, String.valueOf(open), origin.prefix()
                        + "removed the quotes " + open + "…" + close + " around the line; user-data needs none. "
                        + "Write: " + Shown.line(stripTypographic(innerTrimmed))));
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
                    break; // a trailing comment, as in docs/user-data.md's examples
                }
                if (word.equals("--")) {
                    literal = true;
                }
                tokens.add(new Token(word, offset + start + 1));
            }
            return tokens;
        }

        /** {@code <script> <server>}: checks both, even when the first is wrong. */
        private Head namedHead(Token first, List<Token> tokens) {
            String name = first.text();
            shownName = Shown.word(name);
            boolean nameOk = validName(name, first.column());
            if (tokens.size() < 2 || tokens.get(1).text().contains("=") || tokens.get(1).text().equals("--")) {
                int column = tokens.size() < 2 ? offset + content.length() + 1 : tokens.get(1).column();
                error(column, "", "missing server after \"" + shownName + "\"; write " + shownName + " <server> "
                        + "[key=value ...], e.g. " + shownName + " 192.168.7.77, or give the script's full URL.");
                return new Head(null, null, 1);
            }
            Token serverToken = tokens.get(1);
            Optional<String> server = server(serverToken);
            URI url = null;
            if (nameOk && server.isPresent()) {
                url = toUri(serverToken, "http://" + server.get() + "/scriptserver/" + name).orElse(null);
                // the builder's rule too, so that what the line form accepts is always a task
                Optional<String> problem = url == null ? Optional.empty() : Rules.url(url, Rules.SCRIPT_SCHEMES);
                if (problem.isPresent()) {
                    error(serverToken, problem.get());
                    url = null;
                }
            }
            return new Head(nameOk ? name : null, url, 2);
        }

        /** {@code <url>}: the URL, and the script name at the end of its path. */
        private Head urlHead(Token first) {
            Optional<URI> url = url(first, first.text(), 0, Rules.SCRIPT_SCHEMES);
            if (url.isEmpty()) {
                return new Head(null, null, 1);
            }
            Rules.NameInUrl name = Rules.nameInUrl(url.get());
            shownName = name.name().isEmpty() ? shownName : Shown.word(name.name());
            if (name.problem().isPresent()) {
                error(first.column(), name.name(), name.problem().get());
                return new Head(null, url.get(), 1);
            }
            return new Head(name.name(), url.get(), 1);
        }

        private boolean validName(String name, int column) {
            Optional<String> problem = ScriptName.problem(name);
            // the rule quotes the name; show it as any other word of user-data
            problem.ifPresent(message -> error(column, name, message.replace(name, Shown.word(name))));
            return problem.isEmpty();
        }

        private Optional<String> server(Token token) {
            Optional<String> problem = Rules.server(token.text());
            problem.ifPresent(message -> error(token, message));
            return problem.isPresent() ? Optional.empty() : Optional.of(token.text());
        }

        /**
         * A URL word (or a key's value), checked by {@link Rules#url}.
         *
         * @param at where {@code text} starts within the token
         */
        private Optional<URI> url(Token token, String text, int at, List<String> schemes) {
            URI uri;
            try {
                uri = new URI(text);
            } catch (URISyntaxException e) {
                String where = e.getIndex() >= 0 ? " at column " + (token.column() + at + e.getIndex()) : "";
                error(token, "\"" + Shown.url(text) + "\" is not a valid URL (" + e.getReason() + where
                        + "); percent-encode spaces and special characters, e.g. a space as %20.");
                return Optional.empty();
            }
            Optional<String> problem = Rules.url(uri, schemes);
            problem.ifPresent(message -> error(token, message));
            return problem.isPresent() ? Optional.empty() : Optional.of(uri);
        }

        /** Reads every option, reporting each bad one; {@code primary} is null when the line's URL is unknown. */
        private void options(List<Token> tokens, URI primary) {
            boolean literal = false;
            for (Token token : tokens) {
                String word = token.text();
                if (literal) {
                    args.add(word);
                    continue;
                }
                if (word.equals("--")) {
                    literal = true;
                    continue;
                }
                int eq = word.indexOf('=');
                if (eq > 0 && KEY.matcher(word.substring(0, eq)).matches()) {
                    option(token, word.substring(0, eq), word.substring(eq + 1), primary);
                } else {
                    args.add(word); // the seed's bare extra words
                }
            }
        }

        private void option(Token token, String key, String value, URI primary) {
            String lower = key.toLowerCase(Locale.ROOT);
            boolean isEnv = lower.startsWith("env.");
            String identity = isEnv ? "env." + key.substring(4) : lower;
            if (!isEnv && !KEYS.contains(lower)) {
                String nearest = nearestKey(lower);
                String shown = Shown.word(token.text());
                error(token, "unknown key \"" + Shown.clip(key) + "\"" + (nearest == null ? "." : "; did you mean \""
                        + nearest + "\"?") + " Known keys: " + String.join(", ", KEYS) + ". If \"" + shown
                        + "\" is an argument for the script, put it after --: " + shownName + " <server> -- " + shown);
                return;
            }
            if (!REPEATABLE.contains(identity) && !seenKeys.add(identity)) {
                error(token.column(), key, "\"" + Shown.clip(key) + "\" is given twice; keep one.");
                return;
            }
            if (value.isEmpty() && !isEnv) {
                error(token, "\"" + Shown.clip(key) + "=\" has no value; write e.g. " + example(lower));
                return;
            }
            switch (isEnv ? "env" : lower) {
                case "sha256", "sha512" -> digest(token, key, lower, value);
                case "mirror" -> mirror(token, value, primary).ifPresent(mirrors::add);
                case "frequency" -> {
                    Optional<Frequency> f = Frequency.fromToken(value);
                    if (f.isEmpty()) {
                        error(token, "frequency \"" + Shown.clip(value) + "\" is not one of per-instance, per-boot, once, always.");
                    }
                    frequency = f.orElse(null);
                }
                case "retries" -> {
                    if (!value.matches("[0-9]{1,4}") || Integer.parseInt(value) > Rules.MAX_RETRIES) {
                        error(token, "retries must be a whole number 0-" + Rules.MAX_RETRIES + ", got \"" + Shown.clip(value)
                                + "\"; e.g. retries=3.");
                    } else {
                        retries = Integer.parseInt(value);
                    }
                }
                case "timeout" -> timeout(token, value);
                case "as" -> {
                    Optional<String> problem = Rules.interpreter(value);
                    problem.ifPresent(message -> error(token, message));
                    interpreter = value;
                }
                case "report" -> report = url(token, value, key.length() + 1, Rules.REPORT_SCHEMES).orElse(null);
                case "sig" -> {
                    Rules.SignatureWord sig = Rules.signature(value);
                    sig.problem().ifPresent(message -> error(token, message));
                    signature = sig.signature().orElse(null);
                }
                default -> { // env.NAME
                    String envName = key.substring(4);
                    Optional<String> problem = Rules.envName(envName);
                    problem.ifPresent(message -> error(token.column(), key, message));
                    env.put(envName, value);
                }
            }
        }

        private void digest(Token token, String key, String lower, String value) {
            DigestAlgorithm algorithm = lower.equals("sha256") ? DigestAlgorithm.SHA256 : DigestAlgorithm.SHA512;
            if (seenKeys.contains("sha256") && seenKeys.contains("sha512")) {
                error(token, "give one digest, sha256= or sha512=, not both.");
            } else if (value.length() != algorithm.hexLength() || !value.matches("[0-9A-Fa-f]+")) {
                error(token, key + " must be " + algorithm.hexLength() + " hex digits, got " + value.length()
                        + " characters; compute it with: " + algorithm.key() + "sum " + shownName);
            } else {
                digest = new Digest(algorithm, value);
            }
        }

        private void timeout(Token token, String value) {
            Matcher m = TIMEOUT.matcher(value);
            if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
                error(token, "timeout \"" + Shown.clip(value) + "\" must be a positive number followed by s, m or h; "
                        + "e.g. timeout=90s, timeout=10m, timeout=2h.");
                return;
            }
            long n = Long.parseLong(m.group(1));
            timeout = switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            };
        }

        /**
         * {@code mirror=}: a URL, or the same path on another server ({@code host[:port]}) — for an {@code s3://} or
         * {@code gs://} script, the same key in another bucket.
         */
        private Optional<URI> mirror(Token token, String value, URI primary) {
            int at = "mirror=".length();
            if (Shown.isUrl(value)) {
                return url(token, value, at, Rules.SCRIPT_SCHEMES);
            }
            String scheme = primary == null ? null : primary.getScheme().toLowerCase(Locale.ROOT);
            boolean bucket = "s3".equals(scheme) || "gs".equals(scheme);
            if (!bucket && server(new Token(value, token.column() + at)).isEmpty()) {
                return Optional.empty();
            }
            if (primary == null) {
                return Optional.empty();
            }
            // a version id names a version in one bucket only: the mirror's key is unversioned
            String built = (scheme.equals("file") ? "http" : primary.getScheme()) + "://" + value
                    + primary.getRawPath();
            Optional<URI> uri = toUri(token, built);
            if (uri.isEmpty()) {
                return uri;
            }
            Optional<String> problem = Rules.url(uri.get(), Rules.SCRIPT_SCHEMES);
            problem.ifPresent(message -> error(token.column() + at, value, message));
            return problem.isPresent() ? Optional.empty() : uri;
        }

        /** The URL built from validated parts; a last check, since java.net.URI is stricter than some of them. */
        private Optional<URI> toUri(Token token, String url) {
            try {
                return Optional.of(new URI(url));
            } catch (URISyntaxException e) {
                error(token, "\"" + Shown.word(token.text()) + "\" does not make a valid URL (" + e.getReason()
                        + "); write the server as host[:port], e.g. 192.168.7.77:8080.");
                return Optional.empty();
            }
        }

        private Optional<TaskSpec> build(Head head, Token first) {
            try {
                TaskSpec.Builder b = TaskSpec.builder(head.name(), new TaskSource.Remote(head.url(), mirrors));
                if (digest != null) {
                    b.digest(digest);
                }
                if (frequency != null) {
                    b.frequency(frequency);
                }
                if (retries != null) {
                    b.retries(retries);
                }
                if (timeout != null) {
                    b.timeout(timeout);
                }
                if (interpreter != null) {
                    b.interpreter(interpreter);
                }
                if (report != null) {
                    b.report(report);
                }
                if (signature != null) {
                    b.signature(signature);
                }
                env.forEach(b::env);
                args.forEach(b::arg);
                return Optional.of(b.build());
            } catch (IllegalArgumentException e) {
                // the rules above are the builder's, so this should not happen; if it does, it is still located
                error(first, "this line makes no task the agent can run: " + e.getMessage());
                return Optional.empty();
            }
        }

        private void error(Token token, String message) {
            error(token.column(), token.text(), message);
        }

        private void error(int column, String text, String message) {
            plan.problem(new Problem(number, column, Shown.word(text), origin.prefix() + message));
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
            case "sig" -> "sig=<base64 from whatami-server sign>";
            default -> "report=http://192.168.7.77:8080/reports";
        };
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t';
    }

    private static int indexOfTypographic(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Rules.TYPOGRAPHIC.indexOf(s.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    private static String stripTypographic(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.chars().filter(c -> Rules.TYPOGRAPHIC.indexOf(c) < 0 && c != '"').forEach(c -> b.append((char) c));
        return b.toString().strip();
    }

    /** The known key closest to {@code key} by edit distance, if it is close enough to be a typo. */
    static String nearestKey(String key) {
        int dot = key.indexOf('.');
        if (dot > 0 && editDistance(key.substring(0, dot), "env") <= 1 + dot / 3) {
            return "env.NAME"; // evn.SECRET, enw.X
        }
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
