package dev.whatami.agent;

import dev.whatami.metadata.EndpointMode;
import dev.whatami.metadata.MetadataClient;
import dev.whatami.metadata.Provider;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code whatami-agent run}: one boot's work.
 *
 * <p>Its command model is built by hand ({@link #commandSpec()}) rather than from picocli annotations: reading
 * annotations by reflection costs ~35 ms on every boot (issue 9).
 */
final class RunCommand implements Callable<Integer> {
    private static final Pattern DURATION = Pattern.compile("([0-9]{1,6})(ms|s|m|h)");
    static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");
    private static final Path STDERR = Path.of("/proc/self/fd/2");
    static final Set<String> KEYS = Set.of("provider", "metadata-endpoint", "imds-v2-required",
            "user-data-file", "state-dir", "log-dir", "deadline", "max-script-size", "dry-run", "boot-id", "report-url", "report-token", "report-budget",
            "detection-timeout", "sysfs-root", "trusted-keys", "ca-bundle", "require-signature", "require-https");
    static final Path DEFAULT_TRUSTED_KEYS = Path.of("/etc/whatami/trusted-keys");

    private final Map<String, String> env;

    /** Effective settings and their sources, in option order, for --print-config. */
    private final Map<String, ConfigSources.Sourced> effective = new java.util.LinkedHashMap<>();

    private CommandSpec spec;

    RunCommand(Map<String, String> env) {
        this.env = env;
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
        s.addOption(option("--config", "FILE", Path.class, "Config file. Default: $WHATAMI_CONFIG, else "
                + "/etc/whatami/agent.properties when it exists."));
        s.addOption(option("--provider", "NAME", String.class, "auto, ec2, gce, azure, oci, digitalocean, hetzner "
                + "or nocloud. auto reads the platform's DMI strings, then probes each service in that order. "
                + "Default: auto"));
        s.addOption(option("--metadata-endpoint", "URL", String.class, "Metadata endpoint (with auto: where every "
                + "provider is probed). Default: $AWS_EC2_METADATA_SERVICE_ENDPOINT, else each provider's own "
                + "(http://169.254.169.254, http://metadata.google.internal for GCE)"));
        s.addOption(option("--detection-timeout", "DURATION", String.class, "With auto: how long to probe before "
                + "deciding there is no metadata service (off-cloud). Default: 10s"));
        s.addOption(option("--sysfs-root", "DIR", Path.class, "Read DMI from DIR/sys/class/dmi/id (tests, "
                + "chroots). Default: /"));
        s.addOption(option("--imds-v2-required", null, Boolean.class, "Refuse IMDSv1: fail when no IMDSv2 token "
                + "can be had."));
        s.addOption(option("--user-data-file", "FILE", Path.class, "Read user-data from FILE instead of the "
                + "metadata service (a meta-data file beside it may give instance-id)."));
        s.addOption(option("--state-dir", "DIR", Path.class, "status.json, ledgers, fetched scripts. Default: "
                + "/var/lib/whatami"));
        s.addOption(option("--log-dir", "DIR", Path.class, "Task logs <task>.out and .err. Default: "
                + "/var/log/whatami"));
        s.addOption(option("--deadline", "DURATION", String.class, "How long to keep trying the metadata service, "
                + "e.g. 90s, 2m. Default: 120s"));
        s.addOption(option("--max-script-size", "BYTES", Long.class, "Largest script accepted, in bytes. Default: "
                + "67108864 (64 MiB)"));
        s.addOption(option("--boot-id", "ID", String.class, "This boot's id, for per-boot tasks and retries. "
                + "Default: /proc/sys/kernel/random/boot_id (containers share the host's: set it there)."));
        s.addOption(option("--report-url", "URL", String.class, "POST the status here after each task and at the "
                + "end (phone-home), e.g. http://files.example:8080/reports. A report= key in the user-data "
                + "wins."));
        s.addOption(option("--report-token", "TOKEN", String.class, "Bearer token for the report URL (better given "
                + "as WHATAMI_REPORT_TOKEN or in the config file: flags show in ps)."));
        s.addOption(option("--report-budget", "DURATION", String.class, "Most time all reporting of one run may "
                + "take. Default: 10s"));
        s.addOption(option("--trusted-keys", "DIR", Path.class, "Ed25519 public keys (*.pub, PEM) whose signatures "
                + "are trusted; with any, every script needs a valid <url>.sig. Default: "
                + "/etc/whatami/trusted-keys when it exists"));
        s.addOption(option("--ca-bundle", "FILE", Path.class, "PEM CA certificates to trust for https instead of "
                + "the system's."));
        s.addOption(option("--require-signature", null, Boolean.class, "Refuse to run unless trusted keys are "
                + "configured."));
        s.addOption(option("--require-https", null, Boolean.class, "Refuse script URLs that are not https."));
        s.addOption(option("--dry-run", null, Boolean.class, "Parse the user-data and print the plan; fetch and "
                + "run nothing."));
        s.addOption(option("--print-config", null, Boolean.class, "Print every effective setting and where it came "
                + "from; run nothing."));
        WhatamiAgent.addStandardHelpOptions(s);
        this.spec = s;
        return s;
    }

    private static OptionSpec option(String name, String paramLabel, Class<?> type, String description) {
        OptionSpec.Builder b = OptionSpec.builder(name).type(type).description(description);
        return (paramLabel == null ? b.arity("0") : b.paramLabel(paramLabel)).build();
    }

    @Override
    public Integer call() throws Exception {
        AgentSettings settings = settings();
        PrintWriter out = spec.commandLine().getOut();
        if (Boolean.TRUE.equals(option("--print-config"))) {
            effective.forEach((k, v) -> out.printf("%-18s %-40s (%s)%n", k,
                    k.equals("report-token") && !v.value().isEmpty() ? "(set, not shown)" : v.value(), v.source()));
            out.flush();
            return ExitCode.OK.code();
        }
        // the agent's own log goes to the console (stderr) and to <log-dir>/agent.log, each line stamped with its time
        java.io.PrintStream console = System.err;
        Path agentLog = settings.logDir().resolve("agent.log");
        java.io.OutputStream file;
        try {
            Files.createDirectories(settings.logDir());
            file = Files.newOutputStream(agentLog, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            spec.commandLine().getErr().println("whatami-agent: cannot write the log directory " + settings.logDir()
                    + " (" + e + "); run as root or choose another with --log-dir");
            return ExitCode.TASK_FAILED.code();
        }
        try (file) {
            Clock clock = Clock.systemUTC();
            // rc.local's line (and any "2>>agent.log") already sends stderr to agent.log: write it once, not twice
            java.io.OutputStream sinks = stderrIs(agentLog) ? console
                    : new org.apache.commons.io.output.TeeOutputStream(console, file);
            System.setErr(new java.io.PrintStream(new TimestampedLines(sinks, clock), true, StandardCharsets.UTF_8));
            return new Agent(settings, out, clock).run().code();
        } finally {
            System.err.flush();
            System.setErr(console);
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

    AgentSettings settings() {
        ConfigSources sources;
        try {
            sources = ConfigSources.load(env, option("--config"), KEYS);
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
        String providerName = value(sources, "provider", "auto");
        Optional<Provider> p = providerName.equalsIgnoreCase("auto") ? Optional.empty()
                : Optional.of(Provider.fromToken(providerName).orElseThrow(() -> bad("--provider " + providerName
                + " is not one of auto, ec2, gce, azure, oci, digitalocean, hetzner, nocloud")));
        String endpointText = value(sources, "metadata-endpoint", "");
        if (endpointText.isEmpty() && env.containsKey("AWS_EC2_METADATA_SERVICE_ENDPOINT")) {
            endpointText = env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT");
            effective.put("metadata-endpoint", new ConfigSources.Sourced(endpointText,
                    "environment AWS_EC2_METADATA_SERVICE_ENDPOINT"));
        }
        Optional<URI> endpoint = Optional.empty();
        if (!endpointText.isEmpty()) {
            try {
                URI u = URI.create(endpointText.endsWith("/") ? endpointText.substring(0, endpointText.length() - 1)
                        : endpointText);
                MetadataClient.builder().endpoint(u); // validates
                endpoint = Optional.of(u);
            } catch (IllegalArgumentException e) {
                throw bad("--metadata-endpoint: " + e.getMessage());
            }
        }
        String mode = env.getOrDefault("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv4");
        EndpointMode endpointMode = switch (mode.toLowerCase(Locale.ROOT)) {
            case "ipv4" -> EndpointMode.IPV4;
            case "ipv6" -> EndpointMode.IPV6;
            default -> throw bad("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE must be IPv4 or IPv6, got " + mode);
        };
        boolean ec2Disabled = "true".equalsIgnoreCase(env.getOrDefault("AWS_EC2_METADATA_DISABLED", "false"));
        boolean v1Disabled = "true".equalsIgnoreCase(env.getOrDefault("AWS_EC2_METADATA_V1_DISABLED", "false"));
        String fileText = value(sources, "user-data-file", "");
        Optional<Path> file = fileText.isEmpty() ? Optional.empty() : Optional.of(Path.of(fileText));
        if (p.orElse(null) == Provider.NOCLOUD && file.isEmpty()) {
            throw bad("--provider nocloud needs --user-data-file FILE (or a directory with user-data and meta-data)");
        }
        Duration d = duration(value(sources, "deadline", "120s"), "--deadline");
        String maxText = value(sources, "max-script-size", Long.toString(64L << 20));
        long maxBytes;
        try {
            maxBytes = Long.parseLong(maxText);
        } catch (NumberFormatException e) {
            maxBytes = -1;
        }
        if (maxBytes < 1) {
            throw bad("--max-script-size must be a positive number of bytes, got " + maxText);
        }
        Path sysfsRoot = option("--sysfs-root");
        return new AgentSettings(file.isPresent() ? Optional.of(Provider.NOCLOUD) : p, endpoint, endpointMode,
                ec2Disabled, sysfsRoot != null ? sysfsRoot : Path.of(value(sources, "sysfs-root", "/")),
                duration(value(sources, "detection-timeout", "10s"), "--detection-timeout"),
                flag(sources, "imds-v2-required") || v1Disabled, file,
                Path.of(value(sources, "state-dir", "/var/lib/whatami")).toAbsolutePath(),
                Path.of(value(sources, "log-dir", "/var/log/whatami")).toAbsolutePath(),
                d, maxBytes, flag(sources, "dry-run"), env,
                value(sources, "boot-id", systemBootId()), reportUrl(sources),
                Optional.of(value(sources, "report-token", "")).filter(t -> !t.isEmpty()),
                duration(value(sources, "report-budget", "10s"), "--report-budget"),
                trustedKeys(sources), caBundle(sources), flag(sources, "require-signature"),
                flag(sources, "require-https"));
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
            throw bad("--report-url " + text + " is not an http(s) URL; write e.g. http://192.168.7.77:8080/reports");
        }
    }

    private Optional<Path> trustedKeys(ConfigSources sources) {
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
        return Optional.of(dir);
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

    /** The kernel's boot id; without one (not Linux) every run counts as a new boot, which is the safe side. */
    static String systemBootId() {
        try {
            return Files.readString(BOOT_ID, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            return "unknown-boot-" + ProcessHandle.current().pid();
        }
    }

    /** The parsed value of the option {@code name}, null where not given. */
    private <T> T option(String name) {
        return spec.findOption(name).getValue();
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

    private Duration duration(String text, String option) {
        Matcher m = DURATION.matcher(text.strip());
        if (!m.matches()) {
            throw bad(option + " " + text + " is not a duration; write e.g. 90s, 2m or 500ms");
        }
        long n = Long.parseLong(m.group(1));
        Duration d = switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
        if (d.isZero()) {
            throw bad(option + " must be longer than zero");
        }
        return d;
    }

    private CommandLine.ParameterException bad(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}
