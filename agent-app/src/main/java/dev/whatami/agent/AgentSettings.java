package dev.whatami.agent;

import dev.whatami.metadata.EndpointMode;
import dev.whatami.metadata.Provider;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything one {@code run} needs, resolved from flags, environment and defaults.
 *
 * @param provider         where identity and user-data come from; empty to detect it
 * @param metadataEndpoint the metadata endpoint; empty for each provider's own
 * @param endpointMode     EC2's IPv4 or IPv6 endpoint
 * @param ec2Disabled      never ask EC2 (AWS_EC2_METADATA_DISABLED)
 * @param sysfsRoot        where DMI is read for detection
 * @param detectionTimeout how long detection may probe
 * @param imdsV2Required   refuse IMDSv1
 * @param userDataFile     read user-data from this file instead (NoCloud), if given
 * @param stateDir         status.json, ledgers, fetched scripts
 * @param logDir           task logs
 * @param deadline         how long to wait for the metadata service
 * @param maxScriptBytes   size cap per script
 * @param dryRun           parse and show the plan; fetch and run nothing
 * @param environment      the environment scripts start from
 * @param bootId           this boot's id, for per-boot tasks and retries on later boots
 * @param reportUrl        where to POST the status (phone-home), unless the user-data names one
 * @param reportToken      bearer token for the report URL
 * @param reportBudget     most time all reporting of one run may take
 * @param trustedKeys      directory of Ed25519 public keys; with one, every script must be signed
 * @param caBundle         PEM CAs for https instead of the system's
 * @param requireSignature refuse to run without trusted keys
 * @param requireHttps     refuse plain http script URLs
 */
record AgentSettings(Optional<Provider> provider, Optional<URI> metadataEndpoint, EndpointMode endpointMode,
                     boolean ec2Disabled, Path sysfsRoot, Duration detectionTimeout, boolean imdsV2Required,
                     Optional<Path> userDataFile,
                     Path stateDir, Path logDir, Duration deadline, long maxScriptBytes, boolean dryRun,
                     Map<String, String> environment, String bootId, Optional<URI> reportUrl,
                     Optional<String> reportToken, Duration reportBudget, Optional<Path> trustedKeys,
                     Optional<Path> caBundle, boolean requireSignature, boolean requireHttps) {
    AgentSettings {
        Objects.requireNonNull(provider);
        Objects.requireNonNull(metadataEndpoint);
        Objects.requireNonNull(userDataFile);
        Objects.requireNonNull(stateDir);
        Objects.requireNonNull(logDir);
        Objects.requireNonNull(deadline);
        environment = Map.copyOf(environment);
        Objects.requireNonNull(bootId);
        Objects.requireNonNull(reportUrl);
        Objects.requireNonNull(reportToken);
        Objects.requireNonNull(reportBudget);
    }
}
