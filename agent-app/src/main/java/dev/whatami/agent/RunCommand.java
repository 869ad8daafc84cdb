package dev.whatami.agent;

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
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code whatami-agent run}: one boot's work. */
@Command(name = "run", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        description = {"Fetch the user-data, then fetch, verify and run each task it names, in order.",
                "Every option can also be set with an environment variable WHATAMI_<OPTION> (e.g. WHATAMI_STATE_DIR) "
                        + "or in the config file as option=value (e.g. state-dir=/data/whatami); a flag wins over "
                        + "the environment, which wins over the file.",
                "Exit codes: 0 all tasks succeeded, were skipped, or nothing to do; 1 a task failed; 2 user-data "
                        + "invalid; 3 metadata unreachable by the deadline; 4 a script could not be fetched or was "
                        + "refused."})
final class RunCommand implements Callable<Integer> {
    private static final Pattern DURATION = Pattern.compile("([0-9]{1,6})(ms|s|m|h)");
    static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");
    private static final Set<String> KEYS = Set.of("provider", "metadata-endpoint", "imds-v2-required",
            "user-data-file", "state-dir", "log-dir", "deadline", "max-script-size", "dry-run", "boot-id");

    private final Map<String, String> env;

    @Option(names = "--config", paramLabel = "FILE", description = "Config file. Default: $WHATAMI_CONFIG, else "
            + "/etc/whatami/agent.properties when it exists.")
    Path config;

    @Option(names = "--provider", paramLabel = "NAME", description = "auto, ec2 or nocloud. Default: auto (EC2-"
            + "compatible).")
    String provider;

    @Option(names = "--metadata-endpoint", paramLabel = "URL", description = "EC2-compatible metadata endpoint. "
            + "Default: $AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://169.254.169.254")
    String metadataEndpoint;

    @Option(names = "--imds-v2-required", description = "Refuse IMDSv1: fail when no IMDSv2 token can be had.")
    Boolean imdsV2Required;

    @Option(names = "--user-data-file", paramLabel = "FILE", description = "Read user-data from FILE instead of the "
            + "metadata service (a meta-data file beside it may give instance-id).")
    Path userDataFile;

    @Option(names = "--state-dir", paramLabel = "DIR", description = "status.json, ledgers, fetched scripts. "
            + "Default: /var/lib/whatami")
    Path stateDir;

    @Option(names = "--log-dir", paramLabel = "DIR", description = "Task logs <task>.out and .err. Default: "
            + "/var/log/whatami")
    Path logDir;

    @Option(names = "--deadline", paramLabel = "DURATION", description = "How long to keep trying the metadata "
            + "service, e.g. 90s, 2m. Default: 120s")
    String deadline;

    @Option(names = "--max-script-size", paramLabel = "BYTES", description = "Largest script accepted, in bytes. "
            + "Default: 67108864 (64 MiB)")
    Long maxScriptSize;

    @Option(names = "--boot-id", paramLabel = "ID", description = "This boot's id, for per-boot tasks and retries. "
            + "Default: /proc/sys/kernel/random/boot_id (containers share the host's: set it there).")
    String bootId;

    @Option(names = "--dry-run", description = "Parse the user-data and print the plan; fetch and run nothing.")
    Boolean dryRun;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    RunCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() throws Exception {
        AgentSettings settings = settings();
        PrintWriter out = spec.commandLine().getOut();
        return new Agent(settings, out, Clock.systemUTC()).run().code();
    }

    AgentSettings settings() {
        ConfigSources sources;
        try {
            sources = ConfigSources.load(env, config, KEYS);
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
        String providerName = value(provider, sources, "provider", "auto");
        Provider p = providerName.equalsIgnoreCase("auto") ? Provider.EC2 : Provider.fromToken(providerName)
                .orElseThrow(() -> bad("--provider " + providerName + " is not one of auto, ec2, nocloud"));
        String endpointText = value(metadataEndpoint, sources, "metadata-endpoint",
                env.getOrDefault("AWS_EC2_METADATA_SERVICE_ENDPOINT", MetadataClient.EC2_DEFAULT_ENDPOINT.toString()));
        URI endpoint;
        try {
            endpoint = URI.create(endpointText.endsWith("/") ? endpointText.substring(0, endpointText.length() - 1)
                    : endpointText);
            MetadataClient.builder().endpoint(endpoint); // validates
        } catch (IllegalArgumentException e) {
            throw bad("--metadata-endpoint: " + e.getMessage());
        }
        Optional<Path> file = Optional.ofNullable(userDataFile).or(() -> sources.get("user-data-file").map(Path::of));
        if (p == Provider.NOCLOUD && file.isEmpty()) {
            throw bad("--provider nocloud needs --user-data-file FILE (or a directory with user-data and meta-data)");
        }
        Duration d = duration(value(deadline, sources, "deadline", "120s"), "--deadline");
        String maxText = value(maxScriptSize == null ? null : maxScriptSize.toString(), sources, "max-script-size",
                Long.toString(64L << 20));
        long maxBytes;
        try {
            maxBytes = Long.parseLong(maxText);
        } catch (NumberFormatException e) {
            maxBytes = -1;
        }
        if (maxBytes < 1) {
            throw bad("--max-script-size must be a positive number of bytes, got " + maxText);
        }
        return new AgentSettings(file.isPresent() ? Provider.NOCLOUD : p, endpoint,
                flag(imdsV2Required, sources, "imds-v2-required"), file,
                Path.of(value(stateDir == null ? null : stateDir.toString(), sources, "state-dir", "/var/lib/whatami"))
                        .toAbsolutePath(),
                Path.of(value(logDir == null ? null : logDir.toString(), sources, "log-dir", "/var/log/whatami"))
                        .toAbsolutePath(),
                d, maxBytes, flag(dryRun, sources, "dry-run"), env,
                Optional.ofNullable(bootId).or(() -> sources.get("boot-id")).orElseGet(RunCommand::systemBootId));
    }

    /** The kernel's boot id; without one (not Linux) every run counts as a new boot, which is the safe side. */
    static String systemBootId() {
        try {
            return Files.readString(BOOT_ID, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            return "unknown-boot-" + ProcessHandle.current().pid();
        }
    }

    private static String value(String flag, ConfigSources sources, String name, String fallback) {
        return flag != null ? flag : sources.get(name).orElse(fallback);
    }

    private boolean flag(Boolean flag, ConfigSources sources, String name) {
        if (flag != null) {
            return flag;
        }
        String v = sources.get(name).orElse("false").toLowerCase(Locale.ROOT);
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
