package dev.whatami.userdata.internal;

import com.google.common.net.InetAddresses;
import dev.whatami.userdata.Redact;
import dev.whatami.userdata.ScriptName;
import dev.whatami.userdata.Signature;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The grammar's value rules, written once: the line parser reports a broken rule with its line and column, and
 * {@link dev.whatami.userdata.TaskSpec}'s builder refuses the value with the builder method's name. Each check returns
 * what is wrong, in a sentence that says what to write instead and shows user-data only as {@link Shown} allows.
 */
public final class Rules {
    /** Largest {@code retries=}. */
    public static final int MAX_RETRIES = 1000;
    /** Largest number in {@code timeout=<n>s|m|h}. */
    public static final long MAX_TIMEOUT_NUMBER = 999_999_999L;
    /** URL schemes a script, its mirrors and a {@code sig=} URL may have. */
    public static final List<String> SCRIPT_SCHEMES = List.of("file", "gs", "http", "https", "s3");
    /** URL schemes {@code report=} may have. */
    public static final List<String> REPORT_SCHEMES = List.of("http", "https");

    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern INTERPRETER = Pattern.compile("[A-Za-z0-9._/+-]+");
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");
    /** Quotes a word processor puts in; the parser refuses them, so no word may hold one. */
    static final String TYPOGRAPHIC = "\u201C\u201D\u201E\u201F\u2018\u2019\u201A\u201B\u00AB\u00BB";

    private Rules() {
    }

    private static Optional<String> ok() {
        return Optional.empty();
    }

    private static Optional<String> no(String message) {
        return Optional.of(message);
    }

    /**
     * A word of the line form: what the parser reads between spaces and tabs. Non-empty (unless {@code mayBeEmpty}),
     * no whitespace of any kind, no control character, no typographic quote.
     */
    public static Optional<String> word(String word, boolean mayBeEmpty) {
        if (word.isEmpty()) {
            return mayBeEmpty ? ok() : no("it is empty, and the line form has no empty words");
        }
        for (int i = 0; i < word.length(); i++) {
            char c = word.charAt(i);
            if (Character.isWhitespace(c) || Character.isSpaceChar(c) || Character.isISOControl(c)) {
                return no(String.format("it holds U+%04X (%s), and the line form separates words with spaces and "
                        + "holds no control characters; there is no quoting", (int) c, describe(c)));
            }
            if (TYPOGRAPHIC.indexOf(c) >= 0) {
                return no("it holds the typographic quote " + c + ", which the line form refuses");
            }
        }
        return ok();
    }

    /** A name for a character that cannot be shown as itself. */
    static String describe(char c) {
        if (c == ' ') {
            return "a space";
        }
        if (c == '\t') {
            return "a tab";
        }
        if (c == '\u00A0' || c == '\u202F' || c == '\u2007') {
            return "a no-break space";
        }
        if (Character.isISOControl(c)) {
            return "a control character";
        }
        return "a Unicode space";
    }

    /** {@code host[:port]}: a host name, an IPv4 address or {@code [IPv6]}, and a port 1-65535. */
    public static Optional<String> server(String text) {
        String shown = Shown.word(text);
        if (text.contains("://")) {
            return no("give the server as host[:port], not a URL (\"" + shown + "\"); or write the script's full "
                    + "URL as the first word instead of its name.");
        }
        if (text.contains("@")) {
            return no("the server \"" + shown + "\" holds credentials (user@ or user:password@); whatami never sends "
                    + "credentials in URLs. Give host[:port] only, e.g. 192.168.7.77:8080.");
        }
        String host;
        String port = null;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) {
                return no("\"" + shown + "\" opens \"[\" without closing it; write an IPv6 server as [fd00::1] or "
                        + "[fd00::1]:8080.");
            }
            host = text.substring(1, close);
            String after = text.substring(close + 1);
            if (!after.isEmpty()) {
                if (!after.startsWith(":")) {
                    return no("unexpected \"" + Shown.word(after) + "\" after \"]\"; write [IPv6]:port, e.g. "
                            + "[fd00::1]:8080.");
                }
                port = after.substring(1);
            }
            if (!host.contains(":") || host.contains("%") || !InetAddresses.isInetAddress(host)) {
                return no("\"" + Shown.word(host) + "\" in brackets is not an IPv6 address; write e.g. "
                        + "[fd00::1]:8080.");
            }
        } else {
            int colons = (int) text.chars().filter(c -> c == ':').count();
            if (colons > 1) {
                return no("\"" + shown + "\" looks like an IPv6 address; put it in brackets: [" + shown + "] or ["
                        + shown + "]:8080.");
            }
            int colon = text.indexOf(':');
            host = colon < 0 ? text : text.substring(0, colon);
            port = colon < 0 ? null : text.substring(colon + 1);
            Optional<String> hostProblem = host(host, shown);
            if (hostProblem.isPresent()) {
                return hostProblem;
            }
        }
        if (port != null && !validPort(port)) {
            return no("port \"" + Shown.word(port) + "\" in \"" + shown + "\" is out of range; use a number 1-65535, "
                    + "e.g. " + Shown.word(text.substring(0, text.lastIndexOf(':'))) + ":8080.");
        }
        return ok();
    }

    private static Optional<String> host(String host, String shownServer) {
        if (host.isEmpty()) {
            return no("the server \"" + shownServer + "\" has no host; write e.g. 192.168.7.77 or files.example:8080.");
        }
        if (host.matches("[0-9.]+")) {
            String[] parts = host.split("\\.", -1);
            boolean ok = parts.length == 4;
            for (String part : parts) {
                ok &= !part.isEmpty() && part.length() <= 3 && Integer.parseInt(part) <= 255;
            }
            return ok ? ok() : no("\"" + host + "\" is not an IPv4 address: it needs four numbers 0-255 separated by "
                    + "dots, e.g. 192.168.7.77.");
        }
        boolean ok = host.length() <= 253;
        String[] labels = host.split("\\.", -1);
        for (String label : labels) {
            ok &= LABEL.matcher(label).matches();
        }
        String last = labels[labels.length - 1];
        if (ok && !last.isEmpty() && !Character.isLetter(last.charAt(0))) {
            // java.net.URI (RFC 2396) reads no host when the last label starts with a digit: 192.q68.7.77
            return no("\"" + Shown.word(host) + "\" is neither an IPv4 address (four numbers 0-255 separated by dots) "
                    + "nor a host name (its last label must start with a letter); write e.g. 192.168.7.77 or "
                    + "files.example.");
        }
        return ok ? ok() : no("\"" + Shown.word(host) + "\" is not a valid host name (letters, digits and '-' in "
                + "labels separated by dots); write e.g. files.example or 192.168.7.77.");
    }

    private static boolean validPort(String port) {
        return port.matches("[0-9]{1,5}") && Integer.parseInt(port) >= 1 && Integer.parseInt(port) <= 65535;
    }

    /**
     * A URL the agent can use later without surprises: one of {@code schemes}, hierarchical, with a host (but for
     * {@code file:}), and a single word of the line form.
     */
    public static Optional<String> url(URI uri, List<String> schemes) {
        String shown = Redact.url(uri);
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!schemes.contains(scheme)) {
            return no("unsupported URL scheme \"" + Shown.word(scheme) + "\" in " + shown + "; use one of "
                    + String.join(", ", schemes) + ".");
        }
        if (uri.getRawUserInfo() != null || (uri.getRawAuthority() != null && uri.getRawAuthority().contains("@"))) {
            return no("the URL " + shown + " carries credentials (user:password@); whatami never sends credentials "
                    + "in URLs, and would show them in its logs. Drop them: use a presigned URL (its signature in the "
                    + "query string), or a file server the instance can reach without them.");
        }
        if (uri.isOpaque()) {
            return no("the URL " + shown + " has no path (\"" + scheme + ":\" must be followed by \"/\"); write e.g. "
                    + (scheme.equals("file") ? "file:///opt/roles/collector.pl" : "https://files.example/roles/"
                    + "collector.pl") + ".");
        }
        if (uri.getRawFragment() != null) {
            return no("the URL " + shown + " ends in a #fragment, which is never sent to a server and names no file; "
                    + "drop it.");
        }
        Optional<String> where = switch (scheme) {
            case "file" -> fileUrl(uri, shown);
            case "s3", "gs" -> bucketUrl(uri, scheme, shown);
            default -> networkUrl(uri, shown);
        };
        if (where.isPresent()) {
            return where;
        }
        return word(uri.toString(), false).map(p -> "the URL " + shown + " is not one word of user-data: " + p);
    }

    /** A {@code file:} URL: a path on this machine, as {@link Path#of(URI)} will read it when the task runs. */
    private static Optional<String> fileUrl(URI uri, String shown) {
        if (uri.getRawAuthority() != null) {
            return no("the URL " + shown + " names a host, but a file: URL names a file on this machine; write three "
                    + "slashes and the path, e.g. file:///opt/roles/collector.pl");
        }
        if (uri.getRawQuery() != null) {
            return no("the URL " + shown + " has a query (?...), which a local file has no use for; drop it.");
        }
        try {
            Path.of(uri);
        } catch (IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            return no("the URL " + shown + " names no local file (" + e.getMessage() + "); write e.g. "
                    + "file:///opt/roles/collector.pl");
        }
        return ok();
    }

    /**
     * {@code s3://bucket/key[?versionId=…]} or {@code gs://bucket/object}: a bucket name by the store's own rules, an
     * object key, and for S3 only a version id as query.
     */
    private static Optional<String> bucketUrl(URI uri, String scheme, String shown) {
        String bucket = uri.getRawAuthority() == null ? "" : uri.getRawAuthority();
        Optional<String> problem = scheme.equals("s3") ? s3Bucket(bucket) : gcsBucket(bucket);
        if (problem.isPresent()) {
            String example = scheme.equals("s3") ? "s3://my-roles/collector.pl" : "gs://my-roles/collector.pl";
            return no("the bucket name \"" + Shown.word(bucket) + "\" in " + shown + " " + problem.get() + "; e.g. "
                    + example);
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        if (path.length() <= 1) {
            return no("the URL " + shown + " names a bucket but no object; write e.g. " + scheme + "://" + bucket
                    + "/roles/collector.pl");
        }
        String query = uri.getRawQuery();
        if (query != null) {
            if (scheme.equals("gs")) {
                return no("the URL " + shown + " has a query (?...), which a gs:// URL does not take; for a signed URL "
                        + "use its https:// form (with sig= for the script's signature).");
            }
            if (!query.matches("versionId=[^&=]+")) {
                return no("the URL " + shown + " has a query other than ?versionId=<id>, which is all an s3:// URL "
                        + "takes; for a presigned URL use its https:// form (with sig= for the script's signature).");
            }
        }
        return ok();
    }

    /** Amazon S3's bucket naming rules (general purpose buckets). */
    private static Optional<String> s3Bucket(String b) {
        Optional<String> common = bucketCommon(b, "a-z 0-9 . -", "[a-z0-9.-]", 63);
        if (common.isPresent()) {
            return common;
        }
        if (b.contains("..")) {
            return no("has two dots in a row, which S3 does not allow");
        }
        for (String prefix : List.of("xn--", "sthree-", "amzn-s3-demo-")) {
            if (b.startsWith(prefix)) {
                return no("starts with \"" + prefix + "\", a prefix S3 reserves");
            }
        }
        for (String suffix : List.of("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")) {
            if (b.endsWith(suffix)) {
                return no("ends with \"" + suffix + "\", a suffix S3 reserves");
            }
        }
        return ok();
    }

    /** Google Cloud Storage's bucket naming rules. */
    private static Optional<String> gcsBucket(String b) {
        Optional<String> common = bucketCommon(b, "a-z 0-9 . - _", "[a-z0-9._-]", b.contains(".") ? 222 : 63);
        if (common.isPresent()) {
            return common;
        }
        for (String part : b.split("\\.")) {
            if (part.isEmpty() || part.length() > 63) {
                return no("has a dot-separated part that is empty or longer than 63 characters");
            }
        }
        if (b.startsWith("goog") || b.matches(".*g[o0][o0]g(l|1)e.*")) {
            return no("starts with \"goog\" or holds \"google\", which Cloud Storage does not allow");
        }
        return ok();
    }

    private static Optional<String> bucketCommon(String b, String allowed, String charClass, int max) {
        if (b.length() < 3 || b.length() > max) {
            return no("is " + b.length() + " characters long; a bucket name has 3-" + max);
        }
        if (!b.matches(charClass + "+")) {
            return no("may hold only " + allowed + " (lower case)");
        }
        if (!Character.isLetterOrDigit(b.charAt(0)) || !Character.isLetterOrDigit(b.charAt(b.length() - 1))) {
            return no("must start and end with a letter or digit");
        }
        if (b.matches("[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+")) {
            return no("looks like an IP address, which a bucket name may not");
        }
        return ok();
    }

    /** What {@code sig=} (or a signature header or line) says: the signature, or what is wrong with it. */
    public record SignatureWord(Optional<Signature> signature, Optional<String> problem) {
    }

    /**
     * A signature word: a URL (any of {@link #SCRIPT_SCHEMES}, query allowed: it may be presigned), or the base64
     * (standard or URL-safe alphabet, padding optional) of the 64 bytes of an Ed25519 signature.
     */
    public static SignatureWord signature(String value) {
        if (Shown.isUrl(value)) {
            try {
                URI uri = new URI(value);
                Optional<String> problem = url(uri, SCRIPT_SCHEMES);
                return new SignatureWord(problem.isEmpty() ? Optional.of(new Signature.Remote(uri)) : Optional.empty(),
                        problem);
            } catch (URISyntaxException e) {
                return new SignatureWord(Optional.empty(), Optional.of("\"" + Shown.url(value) + "\" is not a valid "
                        + "URL (" + e.getReason() + "); percent-encode spaces and special characters."));
            }
        }
        String how = " write the base64 of the signature's 64 bytes (88 characters, as whatami-server sign prints "
                + "it), or the signature's URL, e.g. sig=https://files.example/roles/collector.pl.sig";
        byte[] bytes;
        try {
            bytes = value.matches("[A-Za-z0-9+/]+={0,2}") ? Base64.getDecoder().decode(value)
                    : value.matches("[A-Za-z0-9_-]+={0,2}") ? Base64.getUrlDecoder().decode(value) : null;
        } catch (IllegalArgumentException e) {
            bytes = null;
        }
        if (bytes == null) {
            return new SignatureWord(Optional.empty(), no("the signature is neither base64 nor a URL;" + how));
        }
        if (bytes.length != Signature.LENGTH) {
            return new SignatureWord(Optional.empty(), no("the signature is " + bytes.length + " bytes, but an "
                    + "Ed25519 signature is " + Signature.LENGTH + ";" + how));
        }
        return new SignatureWord(Optional.of(new Signature.Inline(bytes)), ok());
    }

    /** An {@code http(s)} URL: a host java.net.URI can read, a port 1-65535, no IPv6 zone id. */
    private static Optional<String> networkUrl(URI uri, String shown) {
        String authority = uri.getRawAuthority();
        if (authority == null || authority.isEmpty()) {
            return no("the URL " + shown + " has no host; write e.g. https://files.example/roles/collector.pl");
        }
        if (uri.getHost() == null) {
            if (authority.matches(".*:[0-9]{6,}")) {
                return no("the port in " + shown + " is out of range; use a number 1-65535, e.g. "
                        + "https://files.example:8443/roles/collector.pl");
            }
            return no("the URL " + shown + " has no host java.net.URI can read; a host name is letters, digits and "
                    + "'-' in labels separated by dots (no '_'), e.g. https://files.example/roles/collector.pl");
        }
        if (uri.getPort() == 0 || uri.getPort() > 65535) {
            return no("port " + uri.getPort() + " in " + shown + " is out of range; use a number 1-65535, e.g. "
                    + "https://files.example:8443/roles/collector.pl");
        }
        if (uri.getHost().contains("%")) {
            return no("the URL " + shown + " gives an IPv6 zone id (%...), which whatami does not support; use an "
                    + "address without one.");
        }
        return ok();
    }

    /**
     * The script name a URL gives: the last segment of its (decoded) path.
     *
     * @return the name, or the problem when the URL names no file or its file name is no {@link ScriptName}
     */
    public static NameInUrl nameInUrl(URI uri) {
        String path = uri.getPath();
        String name = path == null ? "" : path.substring(path.lastIndexOf('/') + 1);
        if (name.isEmpty()) {
            return new NameInUrl(name, no("the URL names no file (it ends in \"/\"); give the script's own URL, e.g. "
                    + "https://files.example/roles/collector.pl"));
        }
        return new NameInUrl(name, ScriptName.problem(name));
    }

    /** A URL's script name and what is wrong with it, if anything. */
    public record NameInUrl(String name, Optional<String> problem) {
    }

    /** {@code env.NAME}: a portable environment variable name. */
    public static Optional<String> envName(String name) {
        return ENV_NAME.matcher(name).matches() ? ok() : no("environment variable name \"" + Shown.word(name)
                + "\" must be letters, digits and '_', not starting with a digit; e.g. env.ROLE=collector.");
    }

    /** {@code as=}: a program name or path, nothing else (no arguments). */
    public static Optional<String> interpreter(String interpreter) {
        return INTERPRETER.matcher(interpreter).matches() ? ok() : no("interpreter \"" + Shown.word(interpreter)
                + "\" must be a program name or absolute path, e.g. as=perl or as=/usr/bin/python3; options for it "
                + "go in the script's #! line.");
    }

    /** {@code retries=}: 0 to {@value #MAX_RETRIES}. */
    public static Optional<String> retries(long retries) {
        return retries >= 0 && retries <= MAX_RETRIES ? ok() : no("retries must be a whole number 0-" + MAX_RETRIES
                + ", got " + retries + "; e.g. retries=3.");
    }

    /** {@code timeout=}: what {@code <n>s}, {@code <n>m} or {@code <n>h} can say, n from 1 to 999,999,999. */
    public static Optional<String> timeout(Duration timeout) {
        if (timeout.isNegative() || timeout.isZero() || timeout.getNano() != 0) {
            return no("a timeout is a positive whole number of seconds, got " + timeout.toString().substring(2)
                    .toLowerCase(Locale.ROOT) + "; e.g. Duration.ofSeconds(90) (timeout=90s)");
        }
        long s = timeout.getSeconds();
        boolean fits = s <= MAX_TIMEOUT_NUMBER || (s % 60 == 0 && s / 60 <= MAX_TIMEOUT_NUMBER)
                || (s % 3600 == 0 && s / 3600 <= MAX_TIMEOUT_NUMBER);
        return fits ? ok() : no("a timeout of " + s + " s has no line form (at most " + MAX_TIMEOUT_NUMBER
                + " seconds, minutes or hours); use fewer, e.g. Duration.ofHours(2)");
    }

    /** The line form of a valid timeout: the largest unit that divides it, e.g. {@code 2h} for 7200 s. */
    public static String timeoutWord(Duration timeout) {
        long s = timeout.getSeconds();
        if (s % 3600 == 0) {
            return s / 3600 + "h";
        }
        if (s % 60 == 0) {
            return s / 60 + "m";
        }
        return s + "s";
    }
}
