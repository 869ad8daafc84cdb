package dev.whatami.userdata;

import dev.whatami.userdata.internal.Rules;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One task: which script, from where, how to check it, and how to run it. Immutable; build one with
 * {@link #builder(String, TaskSource)}.
 *
 * <p>Every {@code TaskSpec} holds only what the user-data grammar can say, so a task with a URL always has a line
 * form: {@link LineForm#render(TaskSpec)} writes it and {@link UserDataParser} reads it back as an equal task. Values
 * the grammar cannot carry are refused with an {@link IllegalArgumentException} whose message names the builder
 * method and says what to give instead: a name that is no {@link ScriptName}, or that is not the file name at the end
 * of the URL (the parser takes the name from there); URLs the agent could not fetch (see
 * {@link TaskSource.Remote}); arguments and {@code env} values with whitespace, control characters or typographic
 * quotes (the grammar has no quoting); environment names other than {@code [A-Za-z_][A-Za-z0-9_]*}; {@code retries}
 * outside 0-1000; a timeout that is not a positive whole number of seconds (or is longer than 999,999,999 hours); an
 * interpreter with anything but {@code [A-Za-z0-9._/+-]} (options for it belong in the script's {@code #!} line).
 *
 * @param name        the script's file name, a valid {@link ScriptName} (never a path)
 * @param source      where the script comes from
 * @param digest      the pinned digest, if the user-data gave one
 * @param args        arguments passed to the script, each a separate argv entry
 * @param env         extra environment variables ({@code env.NAME=value}), in user-data order
 * @param frequency   how often it runs (default {@link Frequency#PER_INSTANCE})
 * @param retries     how many later boots may retry the task after it failed (default 0)
 * @param timeout     how long it may run before its process tree is killed (default: no limit)
 * @param interpreter the interpreter from {@code as=}, overriding shebang and extension
 * @param report      where to send the phone-home report for this task, if anywhere
 * @param server      the {@code host[:port]} of the script's URL (its raw authority), for {@code WHATAMI_SERVER};
 *                    empty for {@code file:} URLs and inline scripts; for {@code s3://} and {@code gs://}, the
 *                    bucket. Always derived from {@code source}.
 * @param signature   the script's Ed25519 signature as the user-data gives it ({@code sig=}, a MIME part's
 *                    {@code X-Whatami-Signature}, an inline script's {@code #whatami-signature:} line); the fetcher
 *                    verifies it. Not part of {@link #identity()}: a new signature for the same script is the same
 *                    task.
 */
public record TaskSpec(String name, TaskSource source, Optional<Digest> digest, List<String> args,
                       Map<String, String> env, Frequency frequency, int retries, Optional<Duration> timeout,
                       Optional<String> interpreter, Optional<URI> report, Optional<String> server,
                       Optional<Signature> signature) {

    /** Checks every value as described above. */
    public TaskSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(digest, "digest");
        args = List.copyOf(args);
        env = Collections.unmodifiableMap(new LinkedHashMap<>(env));
        Objects.requireNonNull(frequency, "frequency");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(interpreter, "interpreter");
        Objects.requireNonNull(report, "report");
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(signature, "signature");
        check("builder(name, source)", ScriptName.problem(name));
        checkSource(name, source);
        for (int i = 0; i < args.size(); i++) {
            checkArg(i + 1, args.get(i));
        }
        env.forEach(TaskSpec::checkEnv);
        checkRetries(retries);
        timeout.ifPresent(TaskSpec::checkTimeout);
        interpreter.ifPresent(TaskSpec::checkInterpreter);
        report.ifPresent(TaskSpec::checkReport);
        signature.ifPresent(TaskSpec::checkSignature);
        Optional<String> expected = serverOf(source);
        if (!server.equals(expected)) {
            throw new IllegalArgumentException("server: " + server.orElse("(none)") + " is not the script URL's "
                    + "host[:port] " + expected.orElse("(none)") + "; the builder takes it from the source, give none");
        }
    }

    /**
     * A stable identity for run-once bookkeeping: SHA-256 (hex) over the name, the source (URLs, or the inline
     * bytes) and the pinned digest. Changing any of them makes a new task; arguments, environment, frequency and
     * the signature do not change it.
     */
    public String identity() {
        java.security.MessageDigest md;
        try {
            md = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
        md.update(name.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        md.update((byte) 0);
        if (source instanceof TaskSource.Remote r) {
            for (URI u : r.allUrls()) {
                md.update(u.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                md.update((byte) '\n');
            }
        } else {
            md.update(((TaskSource.Inline) source).content());
        }
        md.update((byte) 0);
        digest.ifPresent(d -> md.update(d.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        return java.util.HexFormat.of().formatHex(md.digest());
    }

    /**
     * A builder with every optional field at its default.
     *
     * @param name   the script's file name, a {@link ScriptName}; for a URL, the last segment of its path
     * @param source where the script comes from
     */
    public static Builder builder(String name, TaskSource source) {
        return new Builder(name, source);
    }

    /** A builder holding this task's values. */
    public Builder toBuilder() {
        Builder b = new Builder(name, source);
        b.digest = digest;
        b.args.addAll(args);
        b.env.putAll(env);
        b.frequency = frequency;
        b.retries = retries;
        b.timeout = timeout;
        b.interpreter = interpreter;
        b.report = report;
        b.signature = signature;
        return b;
    }

    /** The {@code host[:port]} of a remote source's primary URL, as written there; empty when it has none. */
    private static Optional<String> serverOf(TaskSource source) {
        return source instanceof TaskSource.Remote r ? Optional.ofNullable(r.url().getRawAuthority())
                .filter(a -> !a.isEmpty()) : Optional.empty();
    }

    private static void check(String method, Optional<String> problem) {
        if (problem.isPresent()) {
            throw new IllegalArgumentException(method + ": " + problem.get());
        }
    }

    private static void checkSource(String name, TaskSource source) {
        if (!(source instanceof TaskSource.Remote remote)) {
            return;
        }
        String method = "builder(name, source) or source(source)";
        check(method, Rules.url(remote.url(), Rules.SCRIPT_SCHEMES).map(p -> "the script's URL: " + p));
        Rules.NameInUrl inUrl = Rules.nameInUrl(remote.url());
        check(method, inUrl.problem().map(p -> "the script's URL: " + p));
        if (!inUrl.name().equals(name)) {
            throw new IllegalArgumentException("builder(name, source): the name \"" + name + "\" is not the file "
                    + "name at the end of the script's URL (\"" + inUrl.name() + "\"); the agent and the line form "
                    + "take the name from the URL, so name the task " + inUrl.name());
        }
        for (URI mirror : remote.mirrors()) {
            check(method, Rules.url(mirror, Rules.SCRIPT_SCHEMES).map(p -> "a mirror: " + p));
        }
    }

    private static void checkArg(int position, String arg) {
        Objects.requireNonNull(arg, "arg");
        check("arg(...)", Rules.word(arg, false).map(p -> "argument " + position + ": " + p + ". Give each argument "
                + "as one word."));
    }

    private static void checkEnv(String name, String value) {
        Objects.requireNonNull(name, "env name");
        Objects.requireNonNull(value, "env value");
        check("env(name, value)", Rules.envName(name));
        // the value is never shown: it may be a secret
        check("env(\"" + name + "\", value)", Rules.word(value, true).map(p -> "the value: " + p + ". Give a value "
                + "without them (e.g. base64 it), or put it in the script."));
    }

    private static void checkRetries(int retries) {
        check("retries(...)", Rules.retries(retries));
    }

    private static void checkTimeout(Duration timeout) {
        check("timeout(...)", Rules.timeout(timeout));
    }

    private static void checkInterpreter(String interpreter) {
        check("interpreter(...)", Rules.interpreter(interpreter));
    }

    private static void checkReport(URI report) {
        check("report(...)", Rules.url(report, Rules.REPORT_SCHEMES));
    }

    private static void checkSignature(Signature signature) {
        if (signature instanceof Signature.Remote remote) {
            check("signature(...)", Rules.url(remote.url(), Rules.SCRIPT_SCHEMES));
        }
    }

    /**
     * Builds {@link TaskSpec}s. Each setter refuses a value the grammar cannot carry at once, with an
     * {@link IllegalArgumentException} naming the setter; {@link #build()} checks what depends on several values
     * (the name against the URL). Not thread-safe.
     */
    public static final class Builder {
        private final String name;
        private TaskSource source;
        private Optional<Digest> digest = Optional.empty();
        private final List<String> args = new ArrayList<>();
        private final Map<String, String> env = new LinkedHashMap<>();
        private Frequency frequency = Frequency.PER_INSTANCE;
        private int retries;
        private Optional<Duration> timeout = Optional.empty();
        private Optional<String> interpreter = Optional.empty();
        private Optional<URI> report = Optional.empty();
        private Optional<Signature> signature = Optional.empty();

        private Builder(String name, TaskSource source) {
            this.name = Objects.requireNonNull(name, "name");
            this.source = Objects.requireNonNull(source, "source");
        }

        /** Replaces the source given to {@link TaskSpec#builder(String, TaskSource)}. */
        public Builder source(TaskSource source) {
            this.source = Objects.requireNonNull(source, "source");
            return this;
        }

        /** Pins the script's digest. Default: none. */
        public Builder digest(Digest digest) {
            this.digest = Optional.of(digest);
            return this;
        }

        /** Appends an argument: one word, no whitespace, control characters or typographic quotes. Default: none. */
        public Builder arg(String arg) {
            checkArg(args.size() + 1, arg);
            args.add(arg);
            return this;
        }

        /**
         * Adds (or replaces) an environment variable: the name {@code [A-Za-z_][A-Za-z0-9_]*}, the value one word,
         * possibly empty. Default: none.
         */
        public Builder env(String name, String value) {
            checkEnv(name, value);
            env.put(name, value);
            return this;
        }

        /** Default: {@link Frequency#PER_INSTANCE}. */
        public Builder frequency(Frequency frequency) {
            this.frequency = Objects.requireNonNull(frequency);
            return this;
        }

        /** Later boots that may retry a failed task, 0 to 1000. Default: 0. */
        public Builder retries(int retries) {
            checkRetries(retries);
            this.retries = retries;
            return this;
        }

        /**
         * How long the script may run: a positive whole number of seconds, at most 999,999,999 seconds, minutes or
         * hours. Default: no limit.
         */
        public Builder timeout(Duration timeout) {
            checkTimeout(Objects.requireNonNull(timeout, "timeout"));
            this.timeout = Optional.of(timeout);
            return this;
        }

        /**
         * The interpreter, overriding shebang and extension: a program name or path ({@code [A-Za-z0-9._/+-]+}), no
         * options. Default: from the shebang, else from the extension.
         */
        public Builder interpreter(String interpreter) {
            checkInterpreter(Objects.requireNonNull(interpreter, "interpreter"));
            this.interpreter = Optional.of(interpreter);
            return this;
        }

        /** Where to send the phone-home report: an {@code http} or {@code https} URL. Default: none. */
        public Builder report(URI report) {
            checkReport(Objects.requireNonNull(report, "report"));
            this.report = Optional.of(report);
            return this;
        }

        /**
         * The script's signature: its 64 bytes, or a URL ({@code http}, {@code https}, {@code s3}, {@code gs},
         * {@code file}; a query is allowed, it may be presigned). Default: none (the fetcher derives
         * {@code <url>.sig} where it builds the request itself).
         */
        public Builder signature(Signature signature) {
            checkSignature(Objects.requireNonNull(signature, "signature"));
            this.signature = Optional.of(signature);
            return this;
        }

        /**
         * The task.
         *
         * @throws IllegalArgumentException when the name or the source cannot be written as user-data, saying why
         */
        public TaskSpec build() {
            return new TaskSpec(name, source, digest, args, env, frequency, retries, timeout, interpreter,
                    report, serverOf(source), signature);
        }
    }
}
