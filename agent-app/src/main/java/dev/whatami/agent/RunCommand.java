package dev.whatami.agent;

import dev.whatami.metadata.MetadataClient;
import dev.whatami.metadata.Provider;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code whatami-agent run}: one boot's work. */
@Command(name = "run", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        description = {"Fetch the user-data, then fetch, verify and run each task it names, in order.",
                "Every option can also be set with an environment variable WHATAMI_<OPTION>, e.g. WHATAMI_STATE_DIR.",
                "Exit codes: 0 all tasks succeeded or nothing to do; 1 a task failed; 2 user-data invalid; "
                        + "3 metadata unreachable by the deadline; 4 a script could not be fetched or was refused."})
final class RunCommand implements Callable<Integer> {
    private static final Pattern DURATION = Pattern.compile("([0-9]{1,6})(ms|s|m|h)");

    private final Map<String, String> env;

    @Option(names = "--provider", paramLabel = "NAME", description = "auto, ec2 or nocloud. Default: auto (EC2-"
            + "compatible; more providers come with detection).")
    String provider;

    @Option(names = "--metadata-endpoint", paramLabel = "URL", description = "EC2-compatible metadata endpoint. "
            + "Default: $AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://169.254.169.254")
    String metadataEndpoint;

    @Option(names = "--imds-v2-required", description = "Refuse IMDSv1: fail when no IMDSv2 token can be had.")
    Boolean imdsV2Required;

    @Option(names = "--user-data-file", paramLabel = "FILE", description = "Read user-data from FILE instead of the "
            + "metadata service (a meta-data file beside it may give instance-id).")
    Path userDataFile;

    @Option(names = "--state-dir", paramLabel = "DIR", description = "status.json and fetched scripts. Default: "
            + "/var/lib/whatami")
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
        ExitCode code = new Agent(settings, out, Clock.systemUTC()).run();
        return code.code();
    }

    AgentSettings settings() {
        String providerName = pick(provider, "WHATAMI_PROVIDER", "auto");
        Provider p = providerName.equalsIgnoreCase("auto") ? Provider.EC2 : Provider.fromToken(providerName)
                .orElseThrow(() -> bad("--provider " + providerName + " is not one of auto, ec2, nocloud"));
        String endpointText = pick(metadataEndpoint, "WHATAMI_METADATA_ENDPOINT",
                env.getOrDefault("AWS_EC2_METADATA_SERVICE_ENDPOINT", MetadataClient.EC2_DEFAULT_ENDPOINT.toString()));
        URI endpoint;
        try {
            endpoint = URI.create(endpointText.endsWith("/") ? endpointText.substring(0, endpointText.length() - 1)
                    : endpointText);
            MetadataClient.builder().endpoint(endpoint); // validates
        } catch (IllegalArgumentException e) {
            throw bad("--metadata-endpoint: " + e.getMessage());
        }
        Optional<Path> file = Optional.ofNullable(userDataFile)
                .or(() -> Optional.ofNullable(env.get("WHATAMI_USER_DATA_FILE")).map(Path::of));
        if (p == Provider.NOCLOUD && file.isEmpty()) {
            throw bad("--provider nocloud needs --user-data-file FILE (or a directory with user-data and meta-data)");
        }
        Duration d = duration(pick(deadline, "WHATAMI_DEADLINE", "120s"), "--deadline");
        long maxBytes = maxScriptSize != null ? maxScriptSize
                : Long.parseLong(pick(null, "WHATAMI_MAX_SCRIPT_SIZE", Long.toString(64L << 20)));
        if (maxBytes < 1) {
            throw bad("--max-script-size must be a positive number of bytes, got " + maxBytes);
        }
        return new AgentSettings(file.isPresent() ? Provider.NOCLOUD : p, endpoint,
                flag(imdsV2Required, "WHATAMI_IMDS_V2_REQUIRED"), file,
                (stateDir != null ? stateDir : Path.of(pick(null, "WHATAMI_STATE_DIR", "/var/lib/whatami")))
                        .toAbsolutePath(),
                (logDir != null ? logDir : Path.of(pick(null, "WHATAMI_LOG_DIR", "/var/log/whatami"))).toAbsolutePath(),
                d, maxBytes, flag(dryRun, "WHATAMI_DRY_RUN"), env);
    }

    private String pick(String flag, String envName, String fallback) {
        if (flag != null) {
            return flag;
        }
        String v = env.get(envName);
        return v == null || v.isBlank() ? fallback : v;
    }

    private boolean flag(Boolean flag, String envName) {
        return flag != null ? flag : Boolean.parseBoolean(env.getOrDefault(envName, "false"));
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
