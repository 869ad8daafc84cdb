package dev.whatami.boot.internal;

import dev.whatami.boot.ReportPolicy;
import dev.whatami.boot.Boot;
import dev.whatami.fetch.AzureBlobAccess;
import dev.whatami.fetch.FetchException;
import dev.whatami.fetch.FetchFailure;
import dev.whatami.fetch.GcsAccess;
import dev.whatami.fetch.ManifestTrust;
import dev.whatami.fetch.S3Access;
import dev.whatami.fetch.ScriptFetcher;
import dev.whatami.metadata.InstanceCredentials;
import dev.whatami.metadata.MetadataException;
import dev.whatami.metadata.UserDataTooLargeException;
import dev.whatami.boot.Ledger;
import dev.whatami.run.TaskRunner;
import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import dev.whatami.status.TaskState;
import dev.whatami.status.TaskStatus;
import dev.whatami.userdata.ForeignFormatException;
import dev.whatami.userdata.Redact;
import dev.whatami.userdata.TaskPlan;
import dev.whatami.userdata.TaskSpec;
import dev.whatami.userdata.UserDataException;
import dev.whatami.userdata.UserDataParser;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The boot as a sequence: lock the state directory, discover (identity and user-data), plan (parse), then each task
 * through {@link TaskPipeline}, and finish. Every outcome, including an unexpected error, ends in the status document;
 * it is never left {@code running} by a live agent.
 */
public final class BootRun {
    private static final Logger LOG = LoggerFactory.getLogger(BootRun.class);
    /** The resource an Azure managed identity's token must be for to read blobs. */
    private static final String AZURE_STORAGE = "https://storage.azure.com/";
    private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");
    /** The manifest versions this instance accepted, beside status.json: {@code reset} keeps it. */
    static final String MANIFEST_STATE = "manifests.json";

    private final BootSettings s;
    private final Secrets secrets = new Secrets();
    private Instant fetchDeadline;

    public BootRun(BootSettings settings) {
        this.s = settings;
        settings.report().flatMap(Boot.ReportTarget::token).ifPresent(secrets::add);
    }

    /** The kernel's boot id; without one (not Linux) every run counts as a new boot, which is the safe side. */
    public static String systemBootId() {
        try {
            return Files.readString(BOOT_ID, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            return "unknown-boot-" + ProcessHandle.current().pid();
        }
    }

    /** See {@link Boot#run()}. */
    public RunStatus run() {
        Instant start = s.clock().instant();
        StateLayout layout;
        try {
            layout = StateLayout.prepare(s.stateDir(), s.logDir());
        } catch (IOException e) {
            return unwritten(RunState.FAILED, "cannot use the state or log directory: " + e.getMessage());
        }
        Optional<AgentLock> lock;
        try {
            lock = AgentLock.tryAcquire(layout.lockFile());
        } catch (IOException e) {
            return unwritten(RunState.FAILED, "cannot open the lock " + layout.lockFile() + ": " + e.getMessage());
        }
        if (lock.isEmpty()) {
            return unwritten(RunState.FAILED, "another whatami-agent is running (it holds " + layout.lockFile()
                    + "); wait for it with: whatami-agent status --wait");
        }
        try (AgentLock held = lock.get()) {
            DiskReserve reserve = new DiskReserve(layout.reserveFile());
            reserve.keep();
            RunRecord record = new RunRecord(Optional.of(layout.statusFile()), s.bootId(), s.clock(), s.listener(), reserve);
            // the configured report URL only: a URL the user-data names gets neither the token nor the key
            s.report().ifPresent(t -> record.reportTo(reporter(t.url(), t.token(),
                    InstanceKey.loadOrCreate(layout.instanceKeyFile(), new java.security.SecureRandom()))));
            try {
                return sequence(record, layout, start);
            } catch (IOException e) {
                return record.finish(RunState.FAILED, "the agent could not go on: " + e.getMessage()
                        + (DiskReserve.full(e) ? " (free space in " + layout.stateDir() + ")" : ""));
            } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
                LOG.debug("unexpected error", e);
                return record.finish(RunState.FAILED, "the agent stopped on an unexpected error ("
                        + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": "
                        + Redact.text(e.getMessage(), List.of())) + "); nothing more ran. Please report it with "
                        + "agent.log.");
            }
        } catch (IOException e) {
            LOG.debug("releasing the lock: {}", e.toString());
            return unwritten(RunState.FAILED, "releasing the lock failed: " + e.getMessage());
        }
    }

    /** See {@link Boot#plan()}: nothing is written, fetched or run. */
    public Boot.DryRun plan() {
        RunRecord record = new RunRecord(Optional.empty(), s.bootId(), s.clock(), st -> { }, null);
        Discover discover = new Discover(s.metadata());
        Discover.Found found;
        try {
            found = discover.ask();
        } catch (MetadataException e) {
            return new Boot.DryRun(unreached(record, e), Optional.empty());
        }
        RunStatus.Builder b = record.current().toBuilder().instance(found.identity()).pid(OptionalLong.empty());
        if (found.userData().isEmpty()) {
            return new Boot.DryRun(b.state(RunState.DONE).message("no user-data: nothing to do").build(),
                    Optional.empty());
        }
        try {
            TaskPlan plan = UserDataParser.create().parse(found.userData().get());
            return new Boot.DryRun(b.message("dry run: " + plan.tasks().size() + " task(s) planned, none fetched or "
                    + "run").build(), Optional.of(plan));
        } catch (UserDataException e) {
            return new Boot.DryRun(b.state(RunState.INVALID).problems(e.problems()).message(e.getMessage()).build(),
                    Optional.empty());
        }
    }

    private RunStatus sequence(RunRecord record, StateLayout layout, Instant start) throws IOException {
        record.start();
        Discover discover = new Discover(s.metadata());
        Discover.Found found;
        try {
            found = discover.ask();
        } catch (UserDataTooLargeException e) {
            record.problems(List.of(dev.whatami.userdata.Problem.whole(e.getMessage())));
            return record.finish(RunState.INVALID, "invalid user-data: " + e.getMessage());
        } catch (MetadataException e) {
            return unreached(record, e);
        }
        record.instance(found.identity());
        if (found.userData().isEmpty()) {
            return record.finish(RunState.DONE, "no user-data: nothing to do");
        }
        TaskPlan plan;
        try {
            plan = UserDataParser.create().parse(found.userData().get());
        } catch (ForeignFormatException e) {
            // meant for another boot tool (cloud-init, say) on the same image: not whatami's, and not a failure
            LOG.warn("user-data: {}", e.problems().get(0).message());
            return record.finish(RunState.DONE, "nothing for whatami to do: " + e.problems().get(0).message());
        } catch (UserDataException e) {
            record.problems(e.problems());
            return record.finish(RunState.INVALID, e.getMessage());
        }
        plan.warnings().forEach(w -> LOG.warn("user-data: {}", w));
        secrets.addPlan(plan);
        reportFromUserData(plan, record);
        if (s.requireSignature() && !s.signaturesRequired()) {
            return record.finish(RunState.REFUSED, TaskPipeline.sentences("refused to run anything: a signature is "
                    + "required (requireSignature) but no trusted key is configured; give the owner's Ed25519 public "
                    + "key (trustedKeys)", s.hints().hint(new IllegalStateException("requireSignature")).orElse("")));
        }
        String id = found.identity().instanceId();
        layout.ensureInstanceDirs();
        Ledger ledger = Ledger.open(layout.instanceDir(id), layout.stateDir(), s.bootId(), s.clock());
        try (ScriptFetcher fetcher = fetcher(layout)) {
            TaskPipeline pipeline = pipeline(layout, record, ledger, fetcher, discover, found, start);
            List<TaskSpec> tasks = plan.tasks();
            for (int i = 0; i < tasks.size(); i++) {
                TaskStatus t = pipeline.run(tasks.get(i));
                if (t.state() != TaskState.SUCCEEDED && t.state() != TaskState.SKIPPED) {
                    return stopped(record, t, tasks.subList(i + 1, tasks.size()));
                }
            }
        }
        long skipped = record.current().count(TaskState.SKIPPED);
        return record.finish(RunState.DONE, (plan.tasks().size() - skipped) + " task(s) succeeded"
                + (skipped > 0 ? ", " + skipped + " skipped (already done)" : ""));
    }

    private TaskPipeline pipeline(StateLayout layout, RunRecord record, Ledger ledger, ScriptFetcher fetcher,
                                  Discover discover, Discover.Found found, Instant start) {
        DiskReserve reserve = new DiskReserve(layout.reserveFile());
        TaskRunner.Builder runner = TaskRunner.builder(layout.logDir()).clock(s.clock());
        s.environment().ifPresent(runner::baseEnvironment);
        s.console().ifPresent(runner::console);
        Obtain obtain = new Obtain(fetcher, s.maxScriptBytes(), () -> fetchDeadline(start),
                discover.userDataSource());
        return new TaskPipeline(new Decide(ledger), obtain, new Verify(s.signaturesRequired(), s.allowedEnv(),
                s.trustedKeys().isEmpty()),
                new Execute(runner.build(), found.identity()), ledger, record, reserve, secrets, s.hints(), layout,
                found.identity().instanceId(), s.clock());
    }

    /** The run's fetch budget, shared by every task: what is left of the deadline, or the fetch deadline. */
    private Instant fetchDeadline(Instant start) {
        if (fetchDeadline == null) {
            fetchDeadline = s.fetchDeadline().map(d -> s.clock().instant().plus(d))
                    .orElse(start.plus(s.deadline()));
        }
        return fetchDeadline;
    }

    private ScriptFetcher fetcher(StateLayout layout) {
        ScriptFetcher.Builder b = ScriptFetcher.builder().cacheDir(layout.cacheDir()).requireHttps(s.requireHttps())
                .requireSignature(s.requireSignature()).trustedKeys(s.trustedKeys()).retryPolicy(s.fetchRetry())
                .readTimeout(s.fetchReadTimeout()).clock(s.clock()).sleeper(s.sleeper()).listener(new Obtain.ProgressLog(s.clock()));
        s.caBundle().ifPresent(b::caBundle);
        manifests(b, layout);
        cloudOrigins(b);
        return b.build();
    }

    /** Signed manifests, when a root key is configured: the accepted versions live in the state directory. */
    private void manifests(ScriptFetcher.Builder b, StateLayout layout) {
        s.manifestRoot().ifPresent(root -> b.manifestTrust(ManifestTrust.of(root,
                layout.stateDir().resolve(MANIFEST_STATE))));
    }

    /**
     * {@code s3://}, {@code gs://} and Azure blob URLs are fetched with the instance's own identity, asked of the
     * metadata service only when such a URL is fetched: the EC2 role (region from the identity document), the GCE
     * service account, the Azure managed identity. {@code AWS_*} settings (endpoint, keys, region) come from the
     * environment the boot was given ({@link Boot.Builder#environment}); none from this process's otherwise.
     */
    private void cloudOrigins(ScriptFetcher.Builder b) {
        Map<String, String> env = s.environment().orElse(Map.of());
        InstanceCredentials ids = new LazyIdentity(s.metadata());
        b.s3(() -> {
            Optional<String> region;
            try {
                region = ids.awsRegion();
            } catch (MetadataException e) {
                // S3 names the bucket's region in its answer; the fetcher asks again there
                LOG.debug("no region from the identity document ({}); S3 will say the bucket's", e.getMessage());
                region = Optional.empty();
            }
            try {
                return S3Access.fromEnvironment(env, ids::awsCredentials, region);
            } catch (IllegalArgumentException e) {
                throw new FetchException(FetchFailure.CONFIGURATION, "the S3 settings in the agent's environment: "
                        + e.getMessage(), null, 0, e);
            }
        });
        b.gcs(() -> gcs(env, ids));
        b.azureBlob(() -> AzureBlobAccess.of(() -> ids.azureAccessToken(AZURE_STORAGE)));
    }

    /**
     * A {@code report=} URL in the user-data wins over the configured one, but the image's report token goes only to
     * the configured URL: never to a host the user-data names.
     */
    private void reportFromUserData(TaskPlan plan, RunRecord record) {
        Optional<URI> named = plan.tasks().stream().map(TaskSpec::report).flatMap(Optional::stream).findFirst();
        if (named.isEmpty() || s.report().map(r -> same(r.url(), named.get())).orElse(false)) {
            return;
        }
        LOG.info("reporting to {} (named in the user-data; the report token is not sent there)",
                Redact.url(named.get()));
        record.reportTo(reporter(named.get(), Optional.empty(), Optional.empty()));
    }

    private static boolean same(URI a, URI b) {
        return a.normalize().toString().equalsIgnoreCase(b.normalize().toString());
    }

    private Reporter reporter(URI url, Optional<String> token, Optional<String> instanceKey) {
        return new Reporter(url, token, instanceKey, ReportPolicy.forBudget(s.report().map(Boot.ReportTarget::budget)
                .orElse(ReportPolicy.DEFAULT_BUDGET)), s.clock(), s.sleeper(), null);
    }

    private RunStatus stopped(RunRecord record, TaskStatus failed, List<TaskSpec> later) throws IOException {
        for (TaskSpec t : later) {
            record.task(TaskStatus.builder(t.name(), TaskState.NOT_RUN).identity(t.identity()).frequency(t.frequency())
                    .message("not run: " + failed.name() + " did not succeed").build());
        }
        RunState state = switch (failed.state()) {
            case NOT_FETCHED -> RunState.NOT_FETCHED;
            case REFUSED -> RunState.REFUSED;
            default -> RunState.FAILED;
        };
        String message = failed.message().orElse("task " + failed.name() + " " + failed.state().token());
        return record.finish(state, message + (later.isEmpty() ? "" : "; " + later.size() + " later task(s) not run"));
    }

    private RunStatus unreached(RunRecord record, MetadataException e) {
        String hint = s.hints().hint(e).orElse("");
        return record.finish(RunState.UNREACHABLE, TaskPipeline.sentences(e.getMessage(), hint));
    }

    /** A run that could not even write its status: logged, and returned to the caller only. */
    private RunStatus unwritten(RunState state, String message) {
        LOG.error("{}", message);
        return RunStatus.builder(state).state(state).message(message).startedAt(s.clock().instant())
                .finishedAt(s.clock().instant()).tasks(new ArrayList<>()).build();
    }

    /**
     * Cloud Storage with the service account's token; {@code STORAGE_EMULATOR_HOST} (the variable Google's own
     * client libraries read: {@code host:port} or a URL) points it at an emulator or a private endpoint.
     */
    private static GcsAccess gcs(Map<String, String> env, InstanceCredentials ids) {
        GcsAccess gcs = GcsAccess.of(ids::gceAccessToken);
        String host = env.getOrDefault("STORAGE_EMULATOR_HOST", "").strip();
        if (host.isEmpty()) {
            return gcs;
        }
        try {
            return gcs.withEndpoint(URI.create(host.contains("://") ? host : "http://" + host));
        } catch (IllegalArgumentException e) {
            throw new FetchException(FetchFailure.CONFIGURATION, "STORAGE_EMULATOR_HOST in the agent's environment "
                    + "is not host:port or an http(s) URL: " + e.getMessage(), null, 0, e);
        }
    }

    /**
     * The instance's identity, asked of the metadata client only when a cloud URL is fetched; a client for no cloud
     * (nocloud, a user-data file) has none: every request then goes out anonymous.
     */
    private static final class LazyIdentity implements InstanceCredentials {
        private final dev.whatami.metadata.MetadataClient metadata;

        LazyIdentity(dev.whatami.metadata.MetadataClient metadata) {
            this.metadata = metadata;
        }

        private Optional<InstanceCredentials> of() {
            try {
                return Optional.of(metadata.instanceCredentials());
            } catch (IllegalStateException e) {
                return Optional.empty();
            }
        }

        @Override
        public Optional<dev.whatami.metadata.AwsCredentials> awsCredentials() {
            return of().flatMap(InstanceCredentials::awsCredentials);
        }

        @Override
        public Optional<String> awsRegion() {
            return of().flatMap(InstanceCredentials::awsRegion);
        }

        @Override
        public Optional<dev.whatami.metadata.AccessToken> gceAccessToken() {
            return of().flatMap(InstanceCredentials::gceAccessToken);
        }

        @Override
        public Optional<dev.whatami.metadata.AccessToken> azureAccessToken(String resource) {
            return of().flatMap(i -> i.azureAccessToken(resource));
        }
    }
}
