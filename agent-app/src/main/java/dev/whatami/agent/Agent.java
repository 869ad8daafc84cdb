package dev.whatami.agent;

import dev.whatami.fetch.FetchException;
import dev.whatami.fetch.FetchRequest;
import dev.whatami.fetch.FetchResult;
import dev.whatami.fetch.IntegrityException;
import dev.whatami.fetch.ScriptFetcher;
import dev.whatami.fetch.TrustLevel;
import dev.whatami.fetch.TrustedKeys;
import dev.whatami.metadata.InstanceIdentity;
import dev.whatami.metadata.MetadataClient;
import dev.whatami.metadata.MetadataException;
import dev.whatami.metadata.Provider;
import dev.whatami.metadata.RetryPolicy;
import dev.whatami.run.Ledger;
import dev.whatami.run.RunRequest;
import dev.whatami.run.TaskResult;
import dev.whatami.run.TaskRunException;
import dev.whatami.run.TaskRunner;
import dev.whatami.userdata.TaskPlan;
import dev.whatami.userdata.TaskSource;
import dev.whatami.userdata.TaskSpec;
import dev.whatami.userdata.UserDataException;
import dev.whatami.userdata.UserDataParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One boot: under an exclusive lock, ask for identity and user-data, parse, then for each task in order ask
 * the ledger whether it is due, fetch, verify and run it, stopping at the first failure. Every outcome ends
 * in {@code status.json} and an exit code.
 */
final class Agent {
    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);

    private final AgentSettings settings;
    private final PrintWriter console;
    private final Clock clock;
    private final StatusFile status;

    Agent(AgentSettings settings, PrintWriter console, Clock clock) {
        this.settings = settings;
        this.console = console;
        this.clock = clock;
        this.status = new StatusFile(settings.stateDir().resolve("status.json"), clock);
    }

    ExitCode run() throws IOException {
        Files.createDirectories(settings.stateDir());
        Path lockFile = settings.stateDir().resolve("agent.lock");
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                LOG.error("another whatami-agent is running (it holds {}); wait for it with: whatami-agent status "
                        + "--wait", lockFile);
                return ExitCode.TASK_FAILED;
            }
            try {
                return runLocked();
            } catch (IOException e) {
                // a full disk, an unreadable ledger: say so in status.json rather than leave it "running"
                return status.finish(ExitCode.TASK_FAILED, "the agent could not go on: " + e.getMessage());
            } finally {
                lock.release();
            }
        }
    }

    private ExitCode runLocked() throws IOException {
        settings.reportUrl().ifPresent(this::reportTo);
        try {
            return runReported();
        } finally {
            if (reporter != null) {
                reporter.close();
            }
        }
    }

    private Reporter reporter;

    private void reportTo(URI url) {
        if (reporter != null) {
            reporter.close();
        }
        reporter = new Reporter(url, settings.reportToken(), settings.reportBudget(), clock);
        status.onChange(reporter::send);
        LOG.info("reporting to {}", url);
    }

    private ExitCode runReported() throws IOException {
        status.start();
        InstanceIdentity identity;
        Optional<byte[]> userData;
        URI userDataSource;
        try (MetadataClient metadata = metadataClient()) {
            identity = metadata.identity();
            userData = metadata.userData();
            userDataSource = settings.userDataFile().map(Path::toUri)
                    .orElse(URI.create("user-data:" + metadata.provider().token()));
        } catch (MetadataException e) {
            return status.finish(ExitCode.METADATA_UNREACHABLE, e.getMessage());
        }
        status.identity(identity);
        LOG.info("instance {} on {}", identity.instanceId(), identity.provider().token());
        if (userData.isEmpty()) {
            return status.finish(ExitCode.OK, "no user-data: nothing to do");
        }
        TaskPlan plan;
        try {
            plan = UserDataParser.create().parse(userData.get());
        } catch (UserDataException e) {
            status.problems(e.problems());
            return status.finish(ExitCode.USER_DATA_INVALID, e.getMessage());
        }
        plan.warnings().forEach(w -> LOG.warn("user-data: {}", w));
        plan.tasks().stream().map(TaskSpec::report).flatMap(Optional::stream).findFirst()
                .filter(u -> settings.reportUrl().map(s -> !s.equals(u)).orElse(true))
                .ifPresent(this::reportTo);
        if (settings.dryRun()) {
            console.print(PlanView.text(plan));
            console.flush();
            return status.finish(ExitCode.OK, "dry run: " + plan.tasks().size() + " task(s) planned, none fetched "
                    + "or run");
        }
        Path instanceDir = settings.stateDir().resolve("instances").resolve(safe(identity.instanceId()));
        Ledger ledger = Ledger.open(instanceDir, settings.stateDir(), settings.bootId(), clock);
        TaskRunner runner = TaskRunner.builder(settings.logDir()).baseEnvironment(settings.environment())
                .console(line -> {
                    synchronized (console) {
                        console.println(line);
                        console.flush();
                    }
                }).build();
        ScriptFetcher.Builder fb = ScriptFetcher.builder().cacheDir(settings.stateDir().resolve("cache"))
                .requireHttps(settings.requireHttps()).requireSignature(settings.requireSignature())
                .listener(new ProgressLog());
        settings.caBundle().ifPresent(fb::caBundle);
        ScriptFetcher built;
        try {
            settings.trustedKeys().map(TrustedKeys::fromDirectory).ifPresent(fb::trustedKeys);
            built = fb.build(); // refuses a policy that cannot be met: a signature required but no keys
        } catch (FetchException | IllegalArgumentException e) {
            return status.finish(ExitCode.FETCH_FAILED, e.getMessage());
        }
        try (ScriptFetcher fetcher = built) {
            for (TaskSpec task : plan.tasks()) {
                ExitCode code = runTask(task, identity, instanceDir.resolve("tasks").resolve(task.name()),
                        userDataSource, fetcher, runner, ledger);
                if (code != ExitCode.OK) {
                    int left = plan.tasks().size() - plan.tasks().indexOf(task) - 1;
                    String message = status.lastTaskMessage() + (left > 0 ? "; " + left + " later task(s) not run"
                            : "");
                    return status.finish(code, message);
                }
            }
        }
        long skipped = status.count("skipped");
        return status.finish(ExitCode.OK, (plan.tasks().size() - skipped) + " task(s) succeeded"
                + (skipped > 0 ? ", " + skipped + " skipped (already done)" : ""));
    }

    private ExitCode runTask(TaskSpec task, InstanceIdentity identity, Path taskDir, URI userDataSource,
                             ScriptFetcher fetcher, TaskRunner runner, Ledger ledger) throws IOException {
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("name", task.name());
        record.put("frequency", task.frequency().token());
        Ledger.Task entry = new Ledger.Task(task.name(), task.identity(), task.frequency(), task.retries());
        Ledger.Decision decision = ledger.decide(entry);
        if (decision.action() == Ledger.Action.SKIP) {
            record.put("state", "skipped");
            record.put("message", decision.reason());
            status.task(record);
            LOG.info("task {}: skipped, {}", task.name(), decision.reason());
            return ExitCode.OK;
        }
        if (decision.action() == Ledger.Action.GIVE_UP) {
            record.put("state", "failed");
            record.put("attempt", decision.attempt());
            record.put("message", "task " + task.name() + " " + decision.reason());
            status.task(record);
            LOG.warn("task {}: not run: {}", task.name(), decision.reason());
            return ExitCode.TASK_FAILED;
        }
        if (ledger.wasInterrupted(entry)) {
            LOG.warn("task {}: its previous attempt was interrupted (the agent or the machine stopped while it ran)",
                    task.name());
        }
        int attempt = decision.attempt();
        record.put("attempt", attempt);
        ledger.started(entry, attempt);
        status.task(record);
        FetchResult fetched;
        try {
            if (task.source() instanceof TaskSource.Remote remote) {
                record.put("source", remote.url().toString());
                LOG.info("task {}: fetching {}", task.name(), remote.url());
                fetched = fetcher.fetch(FetchRequest.builder(remote.url(), taskDir, task.name())
                        .mirrors(remote.mirrors()).digest(task.digest()).maxBytes(settings.maxScriptBytes()).build());
            } else if (settings.trustedKeys().isPresent()) {
                throw new dev.whatami.fetch.FetchRefusedException(dev.whatami.fetch.RefusalReason.SIGNATURE_MISSING,
                        "refused the script carried in the user-data (" + task.name() + "): trusted "
                        + "keys are configured and an inline script cannot carry a signature; put it on the file "
                        + "server, sign it (whatami-server sign) and name it in the user-data", userDataSource, 0);
            } else {
                record.put("source", userDataSource.toString());
                fetched = fetcher.placeInline(((TaskSource.Inline) task.source()).content(), userDataSource,
                        taskDir, task.name());
            }
        } catch (FetchException e) {
            record.put("state", e instanceof IntegrityException ? "refused" : "fetch-failed");
            record.put("message", e.getMessage());
            ledger.finished(entry, attempt, false);
            status.task(record);
            LOG.warn("task {}: {}", task.name(), e.getMessage());
            return ExitCode.FETCH_FAILED;
        }
        record.put("source", fetched.source().toString());
        record.put("sha256", fetched.sha256());
        record.put("size", fetched.size());
        record.put("trust", fetched.trust().token());
        if (fetched.trust() == TrustLevel.NONE) {
            LOG.warn("task {}: {} came over plain {} with neither a pin nor a signature; anyone on the network path "
                    + "could have changed it. Pin it: add sha256={} to its user-data line.", task.name(),
                    fetched.source(), fetched.source().getScheme(), fetched.sha256());
        }

        Map<String, String> env = new LinkedHashMap<>();
        env.put("WHATAMI_INSTANCE_ID", identity.instanceId());
        env.put("WHATAMI_PROVIDER", identity.provider().token());
        env.put("WHATAMI_TASK", task.name());
        env.put("WHATAMI_SERVER", task.server().orElse(""));
        env.put("WHATAMI_ATTEMPT", Integer.toString(attempt));
        env.putAll(task.env());
        TaskResult result;
        try {
            result = runner.run(RunRequest.builder(task.name(), fetched.path()).args(task.args()).environment(env)
                    .interpreter(task.interpreter()).timeout(task.timeout()).attempt(attempt).sha256(fetched.sha256())
                    .build());
        } catch (TaskRunException e) {
            record.put("state", "failed");
            record.put("message", e.getMessage());
            ledger.finished(entry, attempt, false);
            status.task(record);
            LOG.warn("task {}: {}", task.name(), e.getMessage());
            return ExitCode.TASK_FAILED;
        }
        record.put("state", result.succeeded() ? "succeeded" : result.timedOut() ? "timed-out" : "failed");
        record.put("exitCode", result.exitCode());
        record.put("timedOut", result.timedOut());
        record.put("attempt", result.attempt());
        record.put("start", result.start().toString());
        record.put("end", result.end().toString());
        record.put("stdout", result.stdout().toString());
        record.put("stderr", result.stderr().toString());
        if (!result.succeeded()) {
            record.put("message", "task " + task.name() + (result.timedOut() ? " timed out after "
                    + task.timeout().orElseThrow().toString().substring(2).toLowerCase() : " exited "
                    + result.exitCode()) + "; see " + result.stderr());
        }
        ledger.finished(entry, attempt, result.succeeded());
        status.task(record);
        Json.writeAtomically(taskDir.resolve("result.json"), record);
        return result.succeeded() ? ExitCode.OK : ExitCode.TASK_FAILED;
    }

    /** Logs a line every few seconds while a download is slow: size, rate, time left. */
    private final class ProgressLog implements dev.whatami.fetch.FetchListener {
        private URI current;
        private java.time.Instant started;
        private java.time.Instant lastLine;

        @Override
        public void progress(URI url, long bytes, java.util.OptionalLong total) {
            java.time.Instant now = clock.instant();
            if (!url.equals(current)) {
                current = url;
                started = now;
                lastLine = now;
                return;
            }
            if (java.time.Duration.between(lastLine, now).getSeconds() < 5) {
                return;
            }
            lastLine = now;
            double seconds = Math.max(0.001, java.time.Duration.between(started, now).toMillis() / 1000.0);
            double rate = bytes / seconds;
            String eta = total.isPresent() && rate > 0 ? String.format(", about %.0f s left",
                    (total.getAsLong() - bytes) / rate) : "";
            LOG.info("fetching {}: {} MiB{} at {} MiB/s{}", url, bytes >> 20,
                    total.isPresent() ? " of " + (total.getAsLong() >> 20) : "", String.format("%.1f", rate / (1 << 20)),
                    eta);
        }
    }

    private MetadataClient metadataClient() {
        if (settings.userDataFile().isPresent()) {
            return MetadataClient.builder().provider(Provider.NOCLOUD).noCloudSource(settings.userDataFile().get())
                    .build();
        }
        MetadataClient.Builder b = MetadataClient.builder()
                .ec2Disabled(settings.ec2Disabled()).sysfsRoot(settings.sysfsRoot())
                .detectionTimeout(settings.detectionTimeout()).imdsV2Required(settings.imdsV2Required())
                .retryPolicy(RetryPolicy.builder().deadline(settings.deadline()).build()).clock(clock);
        settings.metadataEndpoint().ifPresentOrElse(b::endpoint, () -> b.endpointMode(settings.endpointMode()));
        settings.provider().ifPresentOrElse(b::provider, b::autoDetect);
        return b.build();
    }

    /** An instance id as a directory name: anything but {@code [A-Za-z0-9._-]} becomes {@code _}. */
    static String safe(String id) {
        String s = id.replaceAll("[^A-Za-z0-9._-]", "_");
        return s.startsWith(".") ? "_" + s.substring(1) : s;
    }

    /** status.json: rewritten atomically at every step, so it is true even if the agent dies mid-run. */
    static final class StatusFile {
        private final Path file;
        private final Clock clock;
        private final Map<String, Object> doc = new LinkedHashMap<>();
        private final List<Map<String, Object>> tasks = new ArrayList<>();
        private java.util.function.Consumer<Map<String, Object>> listener = d -> { };

        StatusFile(Path file, Clock clock) {
            this.file = file;
            this.clock = clock;
        }

        /** Called with the document after each task and at the end (the phone-home). */
        void onChange(java.util.function.Consumer<Map<String, Object>> listener) {
            this.listener = listener;
        }

        void start() throws IOException {
            doc.put("state", "running");
            doc.put("startedAt", Instant.now(clock).toString());
            doc.put("pid", ProcessHandle.current().pid());
            write();
        }

        void identity(InstanceIdentity id) throws IOException {
            doc.put("instanceId", id.instanceId());
            doc.put("provider", id.provider().token());
            id.region().ifPresent(r -> doc.put("region", r));
            id.zone().ifPresent(z -> doc.put("zone", z));
            write();
        }

        void problems(List<dev.whatami.userdata.Problem> problems) {
            doc.put("problems", PlanView.problems(problems));
        }

        void task(Map<String, Object> record) throws IOException {
            if (tasks.stream().noneMatch(t -> t == record)) {
                tasks.add(record);
            }
            write();
            if (record.containsKey("state")) {
                listener.accept(doc);
            }
        }

        long count(String state) {
            return tasks.stream().filter(t -> state.equals(t.get("state"))).count();
        }

        String lastTaskMessage() {
            return tasks.isEmpty() ? "" : String.valueOf(tasks.get(tasks.size() - 1).get("message"));
        }

        ExitCode finish(ExitCode code, String message) throws IOException {
            doc.put("state", code.state());
            doc.put("exitCode", code.code());
            doc.put("result", code.name().toLowerCase().replace('_', '-'));
            doc.put("message", message);
            doc.put("finishedAt", Instant.now(clock).toString());
            doc.remove("pid");
            write();
            listener.accept(doc);
            if (code == ExitCode.OK) {
                LOG.info("{} (status: {})", message, file);
            } else {
                LOG.error("{} (exit {}, status: {})", message, code.code(), file);
            }
            return code;
        }

        private void write() throws IOException {
            doc.remove("tasks");
            doc.put("tasks", tasks); // last, after the summary fields
            Json.writeAtomically(file, doc);
        }
    }
}
