package dev.whatami.agent.cli;

import dev.whatami.boot.Boot;
import dev.whatami.fetch.TrustedKeys;
import dev.whatami.metadata.MetadataClient;
import dev.whatami.metadata.Provider;
import dev.whatami.metadata.RetryPolicy;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code whatami-agent run}: maps flags, environment ({@code WHATAMI_*}, {@code AWS_EC2_METADATA_*}) and the config
 * file onto a {@link MetadataClient.Builder} and a {@link Boot.Builder}, runs the boot, and exits with its code. Nothing
 * else happens here: the boot's steps live in the library ({@link Boot}).
 *
 * <p>Its command model is built by hand ({@link #commandSpec()}) rather than from picocli annotations: reading
 * annotations by reflection costs ~35 ms on every boot.
 */
final class RunCommand implements Callable<Integer> {
    private static final Path STDERR = Path.of("/proc/self/fd/2");
    static final Path DEFAULT_TRUSTED_KEYS = Path.of("/etc/whatami/trusted-keys");
    static final Path DEFAULT_MANIFEST_ROOT_KEY = Path.of("/etc/whatami/manifest-root.pub");
    /** Where run, status and reset look for the state when no flag, variable or config key names it. */
    static final String STATE_DIR = "/var/lib/whatami";
    static final Path DEFAULT_STATE_DIR = Path.of(STATE_DIR);

    /** One option of {@code run}: the one table both the picocli model and {@link #plainFlags} are built from. */
    private record Opt(String name, String label, Class<?> type, String description) {
    }

    private static final List<Opt> OPTIONS = List.of(
            new Opt("--config", "FILE", Path.class, "Config file. Default: $WHATAMI_CONFIG, else "
                    + "/etc/whatami/agent.properties when it exists."),
            new Opt("--provider", "NAME", String.class, "auto, ec2, gce, azure, oci, digitalocean, hetzner "
                    + "or nocloud. auto reads the platform's DMI strings, then probes each service in that order. "
                    + "Default: auto"),
            new Opt("--metadata-endpoint", "URL", String.class, "Metadata endpoint (with auto: where every "
                    + "provider is probed). Default: $AWS_EC2_METADATA_SERVICE_ENDPOINT, else each provider's own "
                    + "(http://169.254.169.254, http://metadata.google.internal for GCE)"),
            new Opt("--detection-timeout", "DURATION", String.class, "With auto: how long to probe before "
                    + "deciding there is no metadata service (off-cloud). Default: 10s"),
            new Opt("--sysfs-root", "DIR", Path.class, "Read DMI from DIR/sys/class/dmi/id (tests, "
                    + "chroots). Default: /"),
            new Opt("--imds-v2-required", null, Boolean.class, "Refuse IMDSv1: fail when no IMDSv2 token "
                    + "can be had."),
            new Opt("--imds-token-timeout", "DURATION", String.class, "How long one IMDSv2 token request may "
                    + "take before it is tried again (or, unless v2 is required, one call falls back to IMDSv1). "
                    + "Default: 1s"),
            new Opt("--user-data-file", "FILE", Path.class, "Read user-data from FILE instead of the "
                    + "metadata service (a meta-data file beside it may give instance-id)."),
            new Opt("--state-dir", "DIR", Path.class, "status.json, ledgers, fetched scripts. Default: "
                    + DEFAULT_STATE_DIR),
            new Opt("--log-dir", "DIR", Path.class, "Task logs <task>.out and .err. Default: "
                    + "/var/log/whatami"),
            new Opt("--deadline", "DURATION", String.class, "How long to keep trying the metadata service "
                    + "and, with what is left of it, the file server, e.g. 90s, 2m. Default: 120s"),
            new Opt("--fetch-deadline", "DURATION", String.class, "How long fetching scripts may keep trying, "
                    + "across all tasks, counted from the first fetch. Default: what is left of --deadline"),
            new Opt("--max-script-size", "BYTES", Long.class, "Largest script accepted, in bytes. Default: "
                    + "67108864 (64 MiB)"),
            new Opt("--boot-id", "ID", String.class, "This boot's id, for per-boot tasks and retries. "
                    + "Default: /proc/sys/kernel/random/boot_id (containers share the host's: set it there)."),
            new Opt("--report-url", "URL", String.class, "POST the status here after each task and at the "
                    + "end (phone-home), e.g. http://files.example:8080/reports. A report= key in the user-data "
                    + "wins."),
            new Opt("--report-token", "TOKEN", String.class, "Bearer token for the report URL (better given "
                    + "as WHATAMI_REPORT_TOKEN or in the config file: flags show in ps)."),
            new Opt("--report-budget", "DURATION", String.class, "Most time all reporting of one run may "
                    + "take. Default: 30s"),
            new Opt("--trusted-keys", "DIR", Path.class, "Ed25519 public keys (*.pub, PEM) whose signatures "
                    + "are trusted; with any, every script needs a valid <url>.sig, and as= and env.* (see --allow-env) "
                    + "are no longer the user-data's to choose. Default: /etc/whatami/trusted-keys once it holds a key"),
            new Opt("--manifest-root-key", "FILE", Path.class, "The root key (minisign .pub) of signed "
                    + "manifests: every script must then be listed with its sha256 in the signed manifest.json of its "
                    + "URL's directory (docs/manifest.md); as with --trusted-keys, as= and env.* are no longer the "
                    + "user-data's. Default: " + DEFAULT_MANIFEST_ROOT_KEY + " when it exists"),
            new Opt("--ca-bundle", "FILE", Path.class, "PEM CA certificates to trust for https instead of "
                    + "the system's."),
            new Opt("--require-signature", null, Boolean.class, "Refuse to run unless trusted keys (or a "
                    + "manifest root key) are configured."),
            new Opt("--require-https", null, Boolean.class, "Refuse script URLs that are not https."),
            new Opt("--allow-env", "NAMES", String.class, "With trusted keys: env.* names the user-data may "
                    + "still set, e.g. ROLE,APP_* (names interpreters read are refused anyway). Default: none"),
            new Opt("--dry-run", null, Boolean.class, "Parse the user-data and print the plan; fetch and "
                    + "run nothing."),
            new Opt("--print-config", null, Boolean.class, "Print every effective setting and where it came "
                    + "from; run nothing."));

    /** The keys a config file (and WHATAMI_* variables) may set: every option but --config and --print-config. */
    static final Set<String> KEYS = OPTIONS.stream().map(o -> o.name().substring(2))
            .filter(k -> !k.equals("config") && !k.equals("print-config"))
            .collect(java.util.stream.Collectors.toUnmodifiableSet());

    private final Map<String, String> env;

    /** Effective settings and their sources, in option order, for --print-config. */
    private final Map<String, ConfigSources.Sourced> effective = new java.util.LinkedHashMap<>();

    /** The picocli model, when picocli parsed the flags; null on the plain path ({@link #runPlain}). */
    private CommandSpec spec;
    /** The flags given, by long name, typed as the option table says. */
    private Map<String, Object> given = Map.of();
    private PrintWriter out;
    private PrintWriter err;

    RunCommand(Map<String, String> env) {
        this.env = env;
    }

    /**
     * The flags of a plain boot, typed as picocli would type them: only {@code --name value}, {@code --name=value}
     * and a boolean {@code --name}, each at most once, every name in the table, no value that is empty or starts
     * with "-". Empty for anything else — help, version, an unknown or repeated option, a number that is not one —
     * which picocli then parses and explains. A boot never pays for picocli's model (~60 ms).
     */
    static Optional<Map<String, Object>> plainFlags(String[] args) {
        Map<String, Object> flags = new java.util.HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            int eq = a.indexOf('=');
            String name = eq < 0 ? a : a.substring(0, eq);
            Opt opt = null;
            for (Opt o : OPTIONS) {
                if (o.name().equals(name)) {
                    opt = o;
                }
            }
            if (opt == null || flags.containsKey(name)) {
                return Optional.empty();
            }
            if (opt.label() == null) {
                if (eq >= 0) {
                    return Optional.empty();
                }
                flags.put(name, Boolean.TRUE);
                continue;
            }
            String value = eq >= 0 ? a.substring(eq + 1) : i + 1 < args.length ? args[++i] : "";
            if (value.isEmpty() || value.startsWith("-")) {
                return Optional.empty();
            }
            try {
                flags.put(name, opt.type() == Path.class ? Path.of(value)
                        : opt.type() == Long.class ? Long.valueOf(value) : value);
            } catch (IllegalArgumentException e) { // InvalidPathException, NumberFormatException
                return Optional.empty();
            }
        }
        return Optional.of(flags);
    }

    /**
     * Runs with flags from {@link #plainFlags}, answering as the picocli path does: bad usage on {@code err} with
     * exit 2, an unexpected failure in one line with exit 1.
     */
    int runPlain(Map<String, Object> flags, PrintWriter out, PrintWriter err) {
        this.given = flags;
        this.out = out;
        this.err = err;
        try {
            return withFlags();
        } catch (Usage e) {
            err.println("whatami-agent: " + e.getMessage());
            err.println("Run whatami-agent run --help for the options.");
            return ExitCode.USER_DATA_INVALID.code();
        } catch (RuntimeException e) {
            err.println("whatami-agent: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            return ExitCode.TASK_FAILED.code();
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** Bad usage, found after parsing; picocli's path turns it into its ParameterException. */
    private static final class Usage extends RuntimeException {
        Usage(String message) {
            super(message, null, false, false);
        }
    }

    /** This command's picocli model; its user object is this command. */
    CommandSpec commandSpec() {
        CommandSpec s = CommandSpec.wrapWithoutInspection(this);
        s.name("run").versionProvider(new WhatamiAgent.Version());
        s.usageMessage().sortOptions(false).autoWidth(true).description(
                "Fetch the user-data, then fetch, verify and run each task it names, in order.",
                "Every option can also be set with an environment variable WHATAMI_<OPTION> (e.g. WHATAMI_STATE_DIR) "
                        + "or in the config file as option=value (e.g. state-dir=/data/whatami); a flag wins over "
                        + "the environment, which wins over the file.",
                "Exit codes: 0 all tasks succeeded, were skipped, or nothing to do; 1 a task failed; 2 user-data "
                        + "invalid; 3 metadata unreachable by the deadline; 4 a script could not be fetched or was "
                        + "refused.");
        for (Opt o : OPTIONS) {
            OptionSpec.Builder b = OptionSpec.builder(o.name()).type(o.type()).description(o.description());
            s.addOption((o.label() == null ? b.arity("0") : b.paramLabel(o.label())).build());
        }
        WhatamiAgent.addStandardHelpOptions(s);
        this.spec = s;
        return s;
    }



    @Override
    public Integer call() {
        if (spec == null) {
            return withFlags();
        }
        Map<String, Object> flags = new java.util.HashMap<>();
        for (OptionSpec o : spec.options()) {
            if (o.getValue() != null && !o.usageHelp() && !o.versionHelp()) {
                flags.put(o.longestName(), o.getValue());
            }
        }
        given = flags;
        out = spec.commandLine().getOut();
        err = spec.commandLine().getErr();
        try {
            return withFlags();
        } catch (Usage e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private int withFlags() {
        ConfigSources sources;
        try {
            sources = ConfigSources.load(env, option("--config"), KEYS);
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
        Run run = settings(sources);
        if (Boolean.TRUE.equals(option("--print-config"))) {
            effective.forEach((k, v) -> out.printf("%-20s %-40s (%s)%n", k,
                    k.equals("report-token") && !v.value().isEmpty() ? "(set, not shown)" : v.value(), v.source()));
            out.flush();
            return ExitCode.OK.code();
        }
        MetadataClient built;
        try {
            built = run.metadata().build();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw bad(e.getMessage());
        }
        try (MetadataClient metadata = built) {
            Boot boot = run.boot().apply(metadata).console(line -> {
                synchronized (out) {
                    out.println(line);
                    out.flush();
                }
            }).build();
            return run.dryRun() ? dryRun(boot, out) : boot(boot, run.logDir());
        }
    }

    private int dryRun(Boot boot, PrintWriter out) {
        Boot.DryRun dry = boot.plan();
        dry.plan().ifPresent(plan -> out.print(PlanView.text(plan)));
        out.flush();
        if (dry.plan().isEmpty()) {
            err.println(dry.status().message().orElse(""));
        }
        return dry.status().exitCode().orElse(0);
    }

    /** The agent's own log goes to the console and to {@code <log-dir>/agent.log} while it boots. */
    private int boot(Boot boot, Path logDir) {
        Path agentLog = logDir.resolve("agent.log");
        try {
            if (!Files.exists(logDir, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectories(logDir);
                try {
                    Files.setPosixFilePermissions(logDir, PosixFilePermissions.fromString("rwxr-x---"));
                } catch (UnsupportedOperationException e) {
                    // not a POSIX file system: no modes to set
                }
            }
            AgentLog.alsoTo(agentLog, stderrIs(agentLog));
        } catch (IOException e) {
            err.println("whatami-agent: cannot write the log directory " + logDir + " ("
                    + e.getMessage() + "); run as root or choose another with --log-dir");
            return ExitCode.TASK_FAILED.code();
        }
        try {
            return boot.run().exitCode().orElse(ExitCode.TASK_FAILED.code());
        } finally {
            AgentLog.closeFile();
        }
    }

    /** Whether this process's stderr (file descriptor 2) is {@code file}; false where that cannot be told. */
    static boolean stderrIs(Path file) {
        try {
            return Files.isSameFile(STDERR, file);
        } catch (IOException | SecurityException e) {
            return false; // no /proc (not Linux), or stderr is not a file
        }
    }

    /**
     * What one run is configured with.
     *
     * @param metadata the metadata client's builder
     * @param boot     the boot's builder, given the client
     * @param logDir   where agent.log goes
     * @param dryRun   plan only
     */
    record Run(MetadataClient.Builder metadata, Function<MetadataClient, Boot.Builder> boot, Path logDir,
               boolean dryRun) {
    }

    /** Every setting from its flag, else the environment or config file, else its default. */
    Run settings(ConfigSources sources) {
        MetadataClient.Builder metadata = metadataClient(sources);
        Duration deadline = duration(sources, "deadline", "120s");
        metadata.retryPolicy(RetryPolicy.builder().deadline(deadline).build());
        Optional<Duration> fetchDeadline = optionalDuration(sources, "fetch-deadline");
        long maxBytes = maxScriptBytes(sources);
        Path state = Path.of(value(sources, "state-dir", DEFAULT_STATE_DIR.toString())).toAbsolutePath();
        Path logs = Path.of(value(sources, "log-dir", "/var/log/whatami")).toAbsolutePath();
        String bootId = value(sources, "boot-id", "");
        Optional<Boot.ReportTarget> report = report(sources);
        Optional<TrustedKeys> keys = trustedKeys(sources);
        Optional<dev.whatami.fetch.MinisignKey> manifestRoot = manifestRoot(sources);
        Optional<Path> caBundle = caBundle(sources);
        boolean requireSignature = flag(sources, "require-signature");
        boolean requireHttps = flag(sources, "require-https");
        Set<String> allowEnv = allowEnv(sources);
        boolean dryRun = flag(sources, "dry-run");
        Function<MetadataClient, Boot.Builder> boot = client -> {
            Boot.Builder b = Boot.builder(client).stateDir(state).logDir(logs).deadline(deadline)
                    .maxScriptBytes(maxBytes).requireSignature(requireSignature).requireHttps(requireHttps)
                    .allowEnv(allowEnv).environment(env).hints(new FlagHints());
            fetchDeadline.ifPresent(b::fetchDeadline);
            if (!bootId.isEmpty()) {
                b.bootId(bootId);
            }
            report.ifPresent(b::report);
            keys.ifPresent(b::trustedKeys);
            manifestRoot.ifPresent(b::manifestRootKey);
            caBundle.ifPresent(b::caBundle);
            return b;
        };
        return new Run(metadata, boot, logs, dryRun);
    }

    private MetadataClient.Builder metadataClient(ConfigSources sources) {
        String providerName = value(sources, "provider", "auto");
        Optional<Provider> p = providerName.equalsIgnoreCase("auto") ? Optional.empty()
                : Optional.of(Provider.fromToken(providerName).orElseThrow(() -> bad("--provider " + providerName
                + " is not one of auto, ec2, gce, azure, oci, digitalocean, hetzner, nocloud")));
        String endpointText = value(sources, "metadata-endpoint", "");
        Duration detection = duration(sources, "detection-timeout", "10s");
        Path sysfsOption = option("--sysfs-root");
        Path sysfsRoot = sysfsOption != null ? sysfsOption : Path.of(value(sources, "sysfs-root", "/"));
        boolean v2Required = flag(sources, "imds-v2-required");
        Optional<Duration> tokenTimeout = optionalDuration(sources, "imds-token-timeout");
        String fileText = value(sources, "user-data-file", "");
        if (!fileText.isEmpty()) {
            return MetadataClient.builder().provider(Provider.NOCLOUD).noCloudSource(Path.of(fileText));
        }
        if (p.orElse(null) == Provider.NOCLOUD) {
            throw bad("--provider nocloud needs --user-data-file FILE (or a directory with user-data and meta-data)");
        }
        MetadataClient.Builder b = MetadataClient.builder().sysfsRoot(sysfsRoot).detectionTimeout(detection)
                .imdsV2Required(v2Required);
        tokenTimeout.ifPresent(b::tokenTimeout);
        awsEnvironment(b, endpointText);
        p.ifPresentOrElse(b::provider, b::autoDetect);
        return b;
    }

    /**
     * The agent's own endpoint setting, else the AWS SDK's {@code AWS_EC2_METADATA_*} variables, which the metadata
     * client resolves itself ({@link MetadataClient.Builder#environment}).
     */
    private void awsEnvironment(MetadataClient.Builder b, String endpointText) {
        if (!endpointText.isEmpty()) {
            try {
                b.endpoint(URI.create(endpointText.endsWith("/") ? endpointText.substring(0, endpointText.length() - 1)
                        : endpointText));
            } catch (IllegalArgumentException e) {
                throw bad("--metadata-endpoint: " + e.getMessage());
            }
        } else if (env.containsKey("AWS_EC2_METADATA_SERVICE_ENDPOINT")) {
            effective.put("metadata-endpoint", new ConfigSources.Sourced(env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT"),
                    "environment AWS_EC2_METADATA_SERVICE_ENDPOINT"));
        }
        b.environment(env);
    }

    private Optional<Boot.ReportTarget> report(ConfigSources sources) {
        Optional<URI> url = reportUrl(sources);
        String token = value(sources, "report-token", "");
        Duration budget = duration(sources, "report-budget",
                Durations.text(dev.whatami.boot.ReportPolicy.DEFAULT_BUDGET));
        return url.map(u -> new Boot.ReportTarget(u, Optional.of(token).filter(t -> !t.isEmpty()), budget));
    }

    private Optional<URI> reportUrl(ConfigSources sources) {
        String text = value(sources, "report-url", "");
        if (text.isEmpty()) {
            return Optional.empty();
        }
        try {
            URI u = new URI(text);
            if (!"http".equalsIgnoreCase(u.getScheme()) && !"https".equalsIgnoreCase(u.getScheme()) || u.getHost() == null) {
                throw new java.net.URISyntaxException(text, "not an http(s) URL with a host");
            }
            return Optional.of(u);
        } catch (java.net.URISyntaxException e) {
            throw bad("--report-url " + dev.whatami.userdata.Redact.url(text) + " is not an http(s) URL; write e.g. "
                    + "http://192.168.7.77:8080/reports");
        }
    }

    private Optional<TrustedKeys> trustedKeys(ConfigSources sources) {
        // the package ships the default directory empty: it counts once a key is in it
        String text = value(sources, "trusted-keys", holdsKeys(DEFAULT_TRUSTED_KEYS) ? DEFAULT_TRUSTED_KEYS.toString()
                : "");
        if (text.isEmpty()) {
            return Optional.empty();
        }
        Path dir = Path.of(text);
        if (!Files.isDirectory(dir)) {
            throw bad("--trusted-keys " + dir + " is not a directory; create it and put the owner's Ed25519 public "
                    + "key there (whatami-server keygen makes one)");
        }
        try {
            return Optional.of(TrustedKeys.fromDirectory(dir));
        } catch (RuntimeException e) {
            throw bad("--trusted-keys " + dir + ": " + e.getMessage());
        }
    }

    private Optional<dev.whatami.fetch.MinisignKey> manifestRoot(ConfigSources sources) {
        String text = value(sources, "manifest-root-key", Files.exists(DEFAULT_MANIFEST_ROOT_KEY)
                ? DEFAULT_MANIFEST_ROOT_KEY.toString() : "");
        if (text.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(dev.whatami.fetch.ManifestTrust.readRootKey(Path.of(text)));
        } catch (RuntimeException e) {
            throw bad("--manifest-root-key " + text + ": " + e.getMessage());
        }
    }

    private static boolean holdsKeys(Path dir) {
        try (java.nio.file.DirectoryStream<Path> keys = Files.newDirectoryStream(dir, "*.pub")) {
            return keys.iterator().hasNext();
        } catch (java.io.IOException e) {
            return Files.isDirectory(dir); // unreadable: let the run say so
        }
    }

    private Optional<Path> caBundle(ConfigSources sources) {
        String text = value(sources, "ca-bundle", "");
        if (text.isEmpty()) {
            return Optional.empty();
        }
        if (!Files.isReadable(Path.of(text))) {
            throw bad("--ca-bundle " + text + " is not a readable file");
        }
        return Optional.of(Path.of(text));
    }

    private long maxScriptBytes(ConfigSources sources) {
        String text = value(sources, "max-script-size", Long.toString(64L << 20));
        long bytes;
        try {
            bytes = Long.parseLong(text);
        } catch (NumberFormatException e) {
            bytes = -1;
        }
        if (bytes < 1) {
            throw bad("--max-script-size must be a positive number of bytes, got " + text);
        }
        return bytes;
    }

    private Set<String> allowEnv(ConfigSources sources) {
        Set<String> names = new LinkedHashSet<>();
        for (String n : value(sources, "allow-env", "").split("[,\\s]+")) {
            if (n.isEmpty()) {
                continue;
            }
            if (!n.matches("[A-Za-z_][A-Za-z0-9_]*\\*?")) {
                throw bad("--allow-env: \"" + n + "\" is not an environment variable name; write e.g. ROLE,APP_*");
            }
            names.add(n);
        }
        return names;
    }

    /** The parsed value of the option {@code name}, null where not given. */
    private <T> T option(String name) {
        @SuppressWarnings("unchecked")
        T value = (T) given.get(name);
        return value;
    }

    /** Setting {@code name}: its flag, else the environment or config file, else {@code fallback}; recorded. */
    private String value(ConfigSources sources, String name, String fallback) {
        Object given = option("--" + name);
        String flag = given == null ? null : given.toString();
        ConfigSources.Sourced v = flag != null ? new ConfigSources.Sourced(flag, "flag --" + name)
                : sources.sourced(name).orElse(new ConfigSources.Sourced(fallback, "default"));
        effective.put(name, v);
        return v.value();
    }

    private boolean flag(ConfigSources sources, String name) {
        String v = value(sources, name, "false").toLowerCase(Locale.ROOT);
        if (!v.equals("true") && !v.equals("false")) {
            throw bad(name + " must be true or false, got " + v);
        }
        return Boolean.parseBoolean(v);
    }

    private Duration duration(ConfigSources sources, String name, String fallback) {
        String text = value(sources, name, fallback);
        Duration d = Durations.parse(text).orElseThrow(() -> bad("--" + name + " " + text + " is not a duration; "
                + "write e.g. 90s, 2m or 500ms"));
        if (d.isZero()) {
            throw bad("--" + name + " must be longer than zero");
        }
        return d;
    }

    private Optional<Duration> optionalDuration(ConfigSources sources, String name) {
        String text = value(sources, name, "");
        return text.isEmpty() ? Optional.empty() : Optional.of(duration(sources, name, text));
    }

    private Usage bad(String message) {
        return new Usage(message);
    }
}
