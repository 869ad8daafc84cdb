package dev.whatami.userdata;

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
 * @param server      the {@code host[:port]} the script came from, for {@code WHATAMI_SERVER}
 */
public record TaskSpec(String name, TaskSource source, Optional<Digest> digest, List<String> args,
                       Map<String, String> env, Frequency frequency, int retries, Optional<Duration> timeout,
                       Optional<String> interpreter, Optional<URI> report, Optional<String> server) {

    public TaskSpec {
        Objects.requireNonNull(name, "name");
        ScriptName.problem(name).ifPresent(problem -> {
            throw new IllegalArgumentException("TaskSpec name: " + problem);
        });
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(digest, "digest");
        args = List.copyOf(args);
        env = Collections.unmodifiableMap(new LinkedHashMap<>(env));
        Objects.requireNonNull(frequency, "frequency");
        if (retries < 0) {
            throw new IllegalArgumentException("retries must be >= 0, got " + retries);
        }
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(interpreter, "interpreter");
        Objects.requireNonNull(report, "report");
        Objects.requireNonNull(server, "server");
    }

    /**
     * A stable identity for run-once bookkeeping: SHA-256 (hex) over the name, the source (URLs, or the inline
     * bytes) and the pinned digest. Changing any of them makes a new task; arguments, environment and
     * frequency do not change it.
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

    /** A builder with every optional field at its default. */
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
        b.server = server;
        return b;
    }

    /** Builds {@link TaskSpec}s. Not thread-safe. */
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
        private Optional<String> server = Optional.empty();

        private Builder(String name, TaskSource source) {
            this.name = name;
            this.source = source;
        }

        /** Replaces the source given to {@link TaskSpec#builder(String, TaskSource)}. */
        public Builder source(TaskSource source) {
            this.source = Objects.requireNonNull(source);
            return this;
        }

        /** Pins the script's digest. Default: none. */
        public Builder digest(Digest digest) {
            this.digest = Optional.of(digest);
            return this;
        }

        /** Appends an argument. */
        public Builder arg(String arg) {
            args.add(Objects.requireNonNull(arg));
            return this;
        }

        /** Adds an environment variable. */
        public Builder env(String name, String value) {
            env.put(Objects.requireNonNull(name), Objects.requireNonNull(value));
            return this;
        }

        /** Default: {@link Frequency#PER_INSTANCE}. */
        public Builder frequency(Frequency frequency) {
            this.frequency = Objects.requireNonNull(frequency);
            return this;
        }

        /** Later boots that may retry a failed task. Default: 0. */
        public Builder retries(int retries) {
            this.retries = retries;
            return this;
        }

        /** Default: no limit. */
        public Builder timeout(Duration timeout) {
            this.timeout = Optional.of(timeout);
            return this;
        }

        /** Default: from the shebang, else from the extension. */
        public Builder interpreter(String interpreter) {
            this.interpreter = Optional.of(interpreter);
            return this;
        }

        /** Default: none. */
        public Builder report(URI report) {
            this.report = Optional.of(report);
            return this;
        }

        /** Default: none. */
        public Builder server(String server) {
            this.server = Optional.of(server);
            return this;
        }

        public TaskSpec build() {
            return new TaskSpec(name, source, digest, args, env, frequency, retries, timeout, interpreter,
                    report, server);
        }
    }
}
