package dev.whatami.boot;

import dev.whatami.boot.internal.BootRun;
import dev.whatami.boot.internal.BootSettings;
import dev.whatami.fetch.MinisignKey;
import dev.whatami.fetch.TrustedKeys;
import dev.whatami.metadata.MetadataClient;
import dev.whatami.metadata.RetryPolicy;
import dev.whatami.metadata.Sleeper;
import dev.whatami.status.RunStatus;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One boot of the agent, in-process: ask the metadata service what this instance is, parse its user-data, and for each
 * task decide (run-once ledger), obtain (fetch or inline), verify (trust policy), execute (with the {@code WHATAMI_*}
 * environment) and record (status, ledger, report). What {@code whatami-agent run} does, for a Java tool that wants the
 * typed status back:
 *
 * <pre>{@code
 * try (MetadataClient metadata = MetadataClient.builder().endpoint(URI.create("http://127.0.0.1:8080")).build()) {
 *     RunStatus status = Boot.builder(metadata).stateDir(Path.of("/tmp/whatami/state"))
 *             .logDir(Path.of("/tmp/whatami/log")).build().run();
 *     System.exit(status.exitCode().orElse(1));
 * }
 * }</pre>
 *
 * Infrastructure failure is not script failure: a script that could not be fetched (or whose signature could not be)
 * never ran and spends none of its {@code retries=}; it is tried again on the next run. A refused script (pin or
 * signature mismatch, policy) never runs and is tried again on the next boot. Only a script that ran and failed spends
 * an attempt. A {@code Boot} runs once at a time per state directory (an exclusive lock); build a new one per boot.
 * Not thread-safe. The caller owns and closes the {@link MetadataClient}.
 */
public final class Boot {
    private final BootSettings settings;

    private Boot(BootSettings settings) {
        this.settings = settings;
    }

    /**
     * A builder for a boot that asks {@code metadata} for identity and user-data.
     *
     * @param metadata the metadata client; the caller keeps ownership and closes it
     */
    public static Builder builder(MetadataClient metadata) {
        return new Builder(metadata);
    }

    /**
     * Runs the boot: every task in order, stopping at the first that does not succeed. Never throws for what it meets
     * on the way — an unreachable metadata service, invalid user-data, a refused script, a full disk: each ends in the
     * returned status (and {@code status.json}, readable by any user) with a message saying what to do.
     *
     * @return how the run ended; {@link RunStatus#exitCode()} is the agent's exit code
     */
    public RunStatus run() {
        return new BootRun(settings).run();
    }

    /**
     * A dry run: asks for identity and user-data and parses it; fetches, runs and writes nothing — no status, no
     * ledger, no report.
     */
    public DryRun plan() {
        return new BootRun(settings).plan();
    }

    /**
     * This boot's id as a boot finds it when none is given: the kernel's ({@code /proc/sys/kernel/random/boot_id}),
     * or, where there is none, an id unique to this process.
     */
    public static String systemBootId() {
        return BootRun.systemBootId();
    }

    /**
     * The directory under {@code stateDir} that holds what a boot keeps for {@code instanceId}: its ledger, fetched
     * scripts and results. The id is used as the name when it is a safe file name; any other id is made safe and
     * given a hash of the whole id, so two ids never share a directory.
     */
    public static Path instanceDirectory(Path stateDir, String instanceId) {
        return stateDir.resolve("instances").resolve(dev.whatami.boot.internal.StateLayout.directoryName(instanceId));
    }

    /**
     * Advice a front end adds to messages about errors from the libraries, e.g. the command line naming the flag that
     * changes the builder setting a library message names.
     */
    @FunctionalInterface
    public interface Hints {
        /** No advice. */
        Hints NONE = e -> Optional.empty();

        /** Advice for {@code error}, appended to its message in the status; empty for none. */
        Optional<String> hint(RuntimeException error);
    }

    /** Builds a {@link Boot}. Not thread-safe. */
    public static final class Builder {
        private final MetadataClient metadata;
        private Path stateDir = Path.of("/var/lib/whatami");
        private Path logDir = Path.of("/var/log/whatami");
        private String bootId;
        private Duration deadline = Duration.ofSeconds(120);
        private Optional<Duration> fetchDeadline = Optional.empty();
        private RetryPolicy fetchRetry = RetryPolicy.builder().baseDelay(Duration.ofMillis(250))
                .maxDelay(Duration.ofSeconds(5)).build();
        private Duration fetchReadTimeout = Duration.ofSeconds(30);
        private long maxScriptBytes = 64L << 20;
        private TrustedKeys trustedKeys = TrustedKeys.none();
        private Optional<Path> caBundle = Optional.empty();
        private boolean requireSignature;
        private boolean requireHttps;
        private final Set<String> allowedEnv = new LinkedHashSet<>();
        private Optional<Map<String, String>> environment = Optional.empty();
        private Optional<Consumer<String>> console = Optional.empty();
        private Optional<ReportTarget> report = Optional.empty();
        private Consumer<RunStatus> listener = s -> { };
        private Hints hints = Hints.NONE;
        private Clock clock = Clock.systemUTC();
        private Sleeper sleeper = Sleeper.SYSTEM;
        private Optional<MinisignKey> manifestRoot = Optional.empty();

        private Builder(MetadataClient metadata) {
            this.metadata = Objects.requireNonNull(metadata, "metadata");
        }

        /**
         * status.json, ledgers and fetched scripts. It must belong to the user the agent runs as and be writable by
         * no one else (it is created 0755, its {@code instances/} 0700); a run refuses a directory others could
         * write. Default: {@code /var/lib/whatami}.
         */
        public Builder stateDir(Path dir) {
            this.stateDir = Objects.requireNonNull(dir, "stateDir").toAbsolutePath();
            return this;
        }

        /** The per-task logs {@code <task>.out|.err}; same ownership rule, created 0750. Default: {@code /var/log/whatami}. */
        public Builder logDir(Path dir) {
            this.logDir = Objects.requireNonNull(dir, "logDir").toAbsolutePath();
            return this;
        }

        /**
         * This boot's id, for {@code per-boot} tasks and retries on later boots. Default: the kernel's
         * ({@code /proc/sys/kernel/random/boot_id}); where there is none, every run counts as a new boot.
         */
        public Builder bootId(String id) {
            if (id == null || id.isBlank()) {
                throw new IllegalArgumentException("bootId must not be blank");
            }
            this.bootId = id;
            return this;
        }

        /**
         * How long from the start of the run fetching scripts (and their signatures) may keep trying, across all tasks
         * and mirrors: a file server that comes up late at first boot is waited for. Give the metadata client a retry
         * policy with the same deadline. Default: 120 s.
         */
        public Builder deadline(Duration d) {
            this.deadline = positive(d, "deadline");
            return this;
        }

        /** The fetch budget, counted from the first fetch, instead of what is left of {@link #deadline}. Default: unset. */
        public Builder fetchDeadline(Duration d) {
            this.fetchDeadline = Optional.of(positive(d, "fetchDeadline"));
            return this;
        }

        /**
         * How fetches are retried; its deadline is replaced by the fetch budget. Default: 250 ms doubling to 5 s, full
         * jitter.
         */
        public Builder fetchRetryPolicy(RetryPolicy policy) {
            this.fetchRetry = Objects.requireNonNull(policy, "fetchRetryPolicy");
            return this;
        }

        /**
         * Longest silence while a script or its signature downloads; the attempt is then tried again (resumed where
         * the server allows it) within the fetch budget. Default: 30 s.
         */
        public Builder fetchReadTimeout(Duration d) {
            this.fetchReadTimeout = positive(d, "fetchReadTimeout");
            return this;
        }

        /** Largest script accepted, in bytes. Default: 64 MiB. */
        public Builder maxScriptBytes(long bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("maxScriptBytes must be positive, got " + bytes);
            }
            this.maxScriptBytes = bytes;
            return this;
        }

        /**
         * Ed25519 keys whose signatures are trusted. With any, every script must be signed by one of them, and the
         * user-data may no longer choose what the signature does not cover: {@code as=} is refused and {@code env.*}
         * names must be {@link #allowEnv allowed}. Default: none.
         */
        public Builder trustedKeys(TrustedKeys keys) {
            this.trustedKeys = Objects.requireNonNull(keys, "trustedKeys");
            return this;
        }

        /**
         * Signed manifests ({@link dev.whatami.fetch.ScriptFetcher.Builder#manifestTrust}): every script must be
         * listed under its name with its digest in the manifest of its URL's directory, whose keys chain to this root
         * key; expired, older and revoked-key manifests are refused. The versions accepted are recorded in
         * {@code <stateDir>/manifests.json}. As with {@link #trustedKeys}, the user-data may then no longer choose
         * {@code as=} or {@code env.*} names that are not {@link #allowEnv allowed}, and {@link #requireSignature} is
         * satisfied. Default: none.
         */
        public Builder manifestRootKey(MinisignKey root) {
            this.manifestRoot = Optional.of(Objects.requireNonNull(root, "manifestRootKey"));
            return this;
        }

        /** PEM CA certificates to trust for https instead of the system's. Default: the system's. */
        public Builder caBundle(Path bundle) {
            if (!Files.isReadable(bundle)) {
                throw new IllegalArgumentException("the CA bundle " + bundle + " is not a readable file");
            }
            this.caBundle = Optional.of(bundle);
            return this;
        }

        /** Refuse to run anything unless {@link #trustedKeys} holds keys. Default: false. */
        public Builder requireSignature(boolean require) {
            this.requireSignature = require;
            return this;
        }

        /** Refuse script URLs that are not https. Default: false. */
        public Builder requireHttps(boolean require) {
            this.requireHttps = require;
            return this;
        }

        /**
         * With trusted keys, {@code env.NAME} settings the user-data may still make, e.g. {@code ROLE} or
         * {@code APP_*} (a trailing {@code *} allows a prefix). Names that change how an interpreter reads the signed
         * bytes ({@code LD_*}, {@code BASH_ENV}, {@code PERL5OPT}, {@code PYTHON*}, {@code PATH} …) are refused even
         * when listed. Without trusted keys every name is allowed. Default: none.
         */
        public Builder allowEnv(Set<String> names) {
            for (String n : names) {
                if (!n.matches("[A-Za-z_][A-Za-z0-9_]*\\*?")) {
                    throw new IllegalArgumentException("allowEnv: \"" + n + "\" is not an environment variable name "
                            + "(letters, digits, '_', optionally ending in * for a prefix)");
                }
            }
            allowedEnv.addAll(names);
            return this;
        }

        /** The environment scripts start from (before {@code WHATAMI_*} and {@code env.*}). Default: this process's. */
        public Builder environment(Map<String, String> env) {
            this.environment = Optional.of(env);
            return this;
        }

        /**
         * Receives every line a script writes, as {@code [task] line}, with {@code env.*} values and tokens replaced by
         * {@code ***}. Called from the task runner's output threads, one call at a time. Default: none.
         */
        public Builder console(Consumer<String> console) {
            this.console = Optional.of(console);
            return this;
        }

        /** Where to POST the status after each task and at the end. Default: nowhere. */
        public Builder report(ReportTarget target) {
            this.report = Optional.of(target);
            return this;
        }

        /** Hears every new status document, on the booting thread. Default: nothing. */
        public Builder listener(Consumer<RunStatus> listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** Advice added to messages about library errors. Default: {@link Hints#NONE}. */
        public Builder hints(Hints hints) {
            this.hints = Objects.requireNonNull(hints, "hints");
            return this;
        }

        /** Default: the system UTC clock. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Waits between retries. Default: {@link Sleeper#SYSTEM}. */
        public Builder sleeper(Sleeper sleeper) {
            this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
            return this;
        }

        /**
         * The boot. Settings that cannot work together (a signature required but no trusted key) do not throw here: the
         * run ends refused, with the reason in its status, so a fleet's status page shows the misconfigured image.
         */
        public Boot build() {
            return new Boot(new BootSettings(metadata, stateDir, logDir, bootId != null ? bootId : BootRun.systemBootId(),
                    deadline, fetchDeadline, fetchRetry, fetchReadTimeout, maxScriptBytes, trustedKeys, caBundle, requireSignature,
                    requireHttps, allowedEnv, environment, console, report, listener, hints, clock, sleeper, manifestRoot));
        }

        private static Duration positive(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + d);
            }
            return d;
        }
    }

    /**
     * Where reports go.
     *
     * @param url    the report endpoint, e.g. {@code http://files.example:8080/reports}
     * @param token  bearer token for it; sent only to this URL, never to a {@code report=} URL the user-data names
     *               unless that is this same URL
     * @param budget most time all reporting of one run may take, however slowly the endpoint answers
     */
    public record ReportTarget(URI url, Optional<String> token, Duration budget) {
        public ReportTarget {
            Objects.requireNonNull(url, "url");
            Objects.requireNonNull(token, "token");
            Objects.requireNonNull(budget, "budget");
            String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(java.util.Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || url.getHost() == null) {
                throw new IllegalArgumentException("a report URL must be http(s) with a host, e.g. "
                        + "http://192.168.7.77:8080/reports");
            }
        }
    }

    /**
     * What a dry run found.
     *
     * @param status how it would stand before anything runs ({@code invalid} with the problems, {@code unreachable},
     *               {@code done} when there is nothing to do, else {@code running})
     * @param plan   the tasks the user-data asks for, when it could be parsed
     */
    public record DryRun(RunStatus status, Optional<dev.whatami.userdata.TaskPlan> plan) {
    }
}
