package dev.whatami.boot.internal;

import dev.whatami.boot.Boot;
import dev.whatami.fetch.MinisignKey;
import dev.whatami.fetch.TrustedKeys;
import dev.whatami.metadata.MetadataClient;
import dev.whatami.metadata.RetryPolicy;
import dev.whatami.metadata.Sleeper;
import dev.whatami.status.RunStatus;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Everything a boot is configured with, as {@link Boot.Builder} collected it. Not API: the builder is.
 *
 * @param metadata        where identity and user-data come from
 * @param stateDir        status.json, ledgers, fetched scripts
 * @param logDir          the per-task logs
 * @param bootId          this boot's id
 * @param deadline        how long from the start of the run fetching may go on, across all tasks
 * @param fetchDeadline   when set, the fetch budget instead, counted from the first fetch
 * @param fetchRetry      how fetches are retried (its deadline is replaced by the fetch budget)
 * @param fetchReadTimeout longest silence while a script or signature downloads
 * @param maxScriptBytes  size cap per script
 * @param trustedKeys     keys whose signatures are trusted; empty for none
 * @param caBundle        PEM CAs for https instead of the system's
 * @param requireSignature refuse to run anything unless trusted keys are configured
 * @param requireHttps    refuse script URLs that are not https
 * @param allowedEnv      with trusted keys, the {@code env.*} names user-data may set ({@code PREFIX_*} allowed)
 * @param environment     the environment scripts start from; empty for this process's own
 * @param console         receives each line scripts write, as {@code [task] line}, redacted
 * @param report          where to send the status after each task and at the end
 * @param listener        hears every new status document
 * @param hints           adds advice to messages about library errors (the CLI names its flags here)
 * @param clock           time source
 * @param sleeper         waits between retries
 * @param manifestRoot    the root key of signed manifests; empty for none
 */
public record BootSettings(MetadataClient metadata, Path stateDir, Path logDir, String bootId, Duration deadline,
                           Optional<Duration> fetchDeadline, RetryPolicy fetchRetry, Duration fetchReadTimeout,
                           long maxScriptBytes,
                           TrustedKeys trustedKeys, Optional<Path> caBundle, boolean requireSignature,
                           boolean requireHttps, Set<String> allowedEnv, Optional<Map<String, String>> environment,
                           Optional<Consumer<String>> console, Optional<Boot.ReportTarget> report,
                           Consumer<RunStatus> listener, Boot.Hints hints, Clock clock, Sleeper sleeper,
                           Optional<MinisignKey> manifestRoot) {
    public BootSettings {
        Objects.requireNonNull(metadata, "metadata");
        allowedEnv = Set.copyOf(allowedEnv);
        environment = environment.map(Map::copyOf);
        Objects.requireNonNull(manifestRoot, "manifestRoot");
    }

    /** Trusted keys or a manifest root key: something vouches for scripts, so the user-data may not change them. */
    public boolean signaturesRequired() {
        return !trustedKeys.isEmpty() || manifestRoot.isPresent();
    }
}
