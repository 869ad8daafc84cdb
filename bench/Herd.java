import dev.whatami.fetch.FetchRequest;
import dev.whatami.fetch.FetchResult;
import dev.whatami.fetch.ScriptFetcher;
import dev.whatami.fetch.TrustedKeys;
import dev.whatami.boot.ReportPolicy;
import dev.whatami.metadata.HttpClientFactory;
import dev.whatami.metadata.MetadataClient;
import dev.whatami.metadata.RetryLoop;
import dev.whatami.metadata.RetryPolicy;
import dev.whatami.metadata.Sleeper;
import dev.whatami.status.InstanceInfo;
import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import dev.whatami.status.StatusCodec;
import dev.whatami.status.TaskState;
import dev.whatami.status.TaskStatus;
import dev.whatami.status.Trust;
import dev.whatami.userdata.Digest;
import dev.whatami.userdata.DigestAlgorithm;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.CloseableHttpResponse;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.io.CloseMode;

/**
 * The herd: N simulated agents, each on its own thread with its own clients, as a booting instance
 * would, each step under exactly the agent's own policy: the IMDSv2 token, the instance's identity (instance-id,
 * zone, region) and user-data through the real {@link MetadataClient} (the CLI's {@code RetryPolicy} with the
 * {@code --deadline} of 120 s, the client's own 1 s connect / 2 s read timeouts); the script and its signature
 * through the real {@link ScriptFetcher} (sha256 pin, Ed25519 signature required; the agent's fetch policy, 250 ms
 * doubling to 5 s, deadline 120 s from the run's start, 5 s connect / 30 s read timeouts); then the phone-home
 * reports as the agent's {@code Reporter} sends them — one when the task has ended and one at the run's end, sharing
 * one budget, under {@link ReportPolicy#forBudget} with {@link ReportPolicy#DEFAULT_BUDGET} (6 attempts, 200 ms
 * doubling to 2 s, 30 s budget, 3 s per call, a request in flight aborted when the budget is spent; no
 * {@code Retry-After}: the agent's reporter does not wait for it). Starts are uniformly jittered within the spread.
 * Every HTTP attempt is timed by a wrapper around the clients the libraries are given. Prints p50/p99 per step,
 * attempts, errors, reports sent and lost (and why), and how the attempts spread over time. Loopback only. Run by
 * bench/herd.sh: {@code java -cp whatami-agent.jar bench/Herd.java KEY=VALUE...}.
 */
public class Herd {
    static final String[] STEPS = {"token", "identity", "user-data", "script", "signature", "report"};

    /** The agent's metadata policy: {@code RunCommand} builds it from {@code --deadline} (default 120 s). */
    static final Duration DEADLINE = Duration.ofSeconds(120);
    static final RetryPolicy METADATA_POLICY = RetryPolicy.builder().deadline(DEADLINE).build();
    /** {@code MetadataClient.Builder}'s defaults, which the agent keeps: 1 s connect, 2 s read. */
    static final Duration METADATA_CONNECT = Duration.ofSeconds(1);
    static final Duration METADATA_READ = Duration.ofSeconds(2);
    /** {@code Boot.Builder}'s default fetch policy (its deadline replaced by the run's fetch budget). */
    static final RetryPolicy FETCH_POLICY = RetryPolicy.builder().baseDelay(Duration.ofMillis(250))
            .maxDelay(Duration.ofSeconds(5)).build();
    /** {@code ScriptFetcher.Builder}'s default connect timeout and {@code Boot.Builder}'s fetch read timeout. */
    static final Duration FETCH_CONNECT = Duration.ofSeconds(5);
    static final Duration FETCH_READ = Duration.ofSeconds(30);

    /** Every attempt of every agent: when it started (ms since the herd began), which step, whether it was answered. */
    record Attempt(long startMs, String step, boolean answered, long nanos) {
    }

    static final ConcurrentLinkedQueue<Attempt> ATTEMPTS = new ConcurrentLinkedQueue<>();
    static long herdStart;

    /** The client the libraries get: a real one (HttpClientFactory), each attempt timed. */
    static final class Timed extends CloseableHttpClient {
        private final CloseableHttpClient delegate;

        Timed(CloseableHttpClient delegate) {
            this.delegate = delegate;
        }

        static String step(ClassicHttpRequest r) {
            String path = r.getPath();
            if (path.contains("/api/token")) {
                return "token";
            }
            if (path.contains("/user-data")) {
                return "user-data";
            }
            if (path.contains("/meta-data/")) {
                return "identity";
            }
            if (path.endsWith(".sig")) {
                return "signature";
            }
            if (path.startsWith("/reports")) {
                return "report";
            }
            if (path.startsWith("/scriptserver/")) {
                return "script";
            }
            return "other";
        }

        @Override
        @SuppressWarnings("deprecation")
        protected CloseableHttpResponse doExecute(HttpHost target, ClassicHttpRequest request, HttpContext context)
                throws IOException {
            long t0 = System.nanoTime();
            long start = System.currentTimeMillis() - herdStart;
            String step = step(request);
            try {
                CloseableHttpResponse r = delegate.execute(target, request, context);
                boolean ok = r.getCode() < 500 && r.getCode() != 429 && r.getCode() != 408;
                ATTEMPTS.add(new Attempt(start, step, ok, System.nanoTime() - t0));
                return r;
            } catch (IOException e) {
                ATTEMPTS.add(new Attempt(start, step, false, System.nanoTime() - t0));
                throw e;
            }
        }

        @Override
        public void close() throws IOException {
            delegate.close();
        }

        @Override
        public void close(CloseMode mode) {
            delegate.close(mode);
        }
    }

    static String arg(Map<String, String> a, String k, String dflt) {
        String v = a.get(k);
        if (v == null && dflt == null) {
            throw new IllegalArgumentException("missing " + k + "=");
        }
        return v == null ? dflt : v;
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> a = new TreeMap<>();
        for (String s : argv) {
            int eq = s.indexOf('=');
            a.put(s.substring(0, eq), s.substring(eq + 1));
        }
        URI metadata = URI.create(arg(a, "metadata", null));
        URI files = URI.create(arg(a, "files", null));   // .../scriptserver/
        URI reports = URI.create(arg(a, "reports", null)); // .../reports
        String pub = Files.readString(Path.of(arg(a, "pubkey", null)));
        String sha = arg(a, "sha256", null);
        int agents = Integer.parseInt(arg(a, "agents", "1000"));
        long spreadMs = Long.parseLong(arg(a, "spread-ms", "5000"));
        Path work = Path.of(arg(a, "work", null));
        String tag = arg(a, "tag", "herd");
        Optional<Path> startedFile = Optional.ofNullable(a.get("server-started-file")).map(Path::of);
        Optional<Path> progress = Optional.ofNullable(a.get("progress-file")).map(Path::of);

        Duration budget = a.containsKey("report-budget") ? Duration.parse(a.get("report-budget"))
                : ReportPolicy.DEFAULT_BUDGET;
        ReportPolicy reporting = ReportPolicy.forBudget(budget);
        ScheduledExecutorService aborter = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "report-deadline");
            t.setDaemon(true);
            return t;
        });
        TrustedKeys trusted = TrustedKeys.of("fleet", pub);
        StatusCodec codec = StatusCodec.create();
        SplittableRandom seeds = new SplittableRandom(18);
        long[] offsets = new long[agents];
        for (int i = 0; i < agents; i++) {
            offsets[i] = (long) (seeds.nextDouble() * spreadMs);
        }
        Map<String, List<Long>> stepMs = new ConcurrentHashMap<>(); // per agent: first attempt to success, ms
        Map<String, Integer> errors = new ConcurrentHashMap<>();
        AtomicInteger sent = new AtomicInteger();
        Map<String, Integer> reportOutcomes = new ConcurrentHashMap<>(); // "<which report>: <outcome>"
        AtomicInteger fetched = new AtomicInteger();
        List<Long> bootMs = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(agents);
        herdStart = System.currentTimeMillis();
        List<Thread> threads = new ArrayList<>();
        for (int n = 0; n < agents; n++) {
            int agent = n;
            Thread t = new Thread(() -> {
                String id = String.format("i-%s-%04d", tag, agent);
                SplittableRandom random = new SplittableRandom(agent);
                try {
                    Thread.sleep(offsets[agent]);
                    long boot0 = System.nanoTime();
                    Instant runStart = Instant.now();
                    Path dir = Files.createDirectories(work.resolve(id));
                    try (Timed mdHttp = new Timed(HttpClientFactory.builder().connectTimeout(METADATA_CONNECT)
                                    .socketTimeout(METADATA_READ).build());
                            MetadataClient imds = MetadataClient.builder().endpoint(metadata).imdsV2Required(true)
                                    .retryPolicy(METADATA_POLICY).readTimeout(METADATA_READ).httpClient(mdHttp)
                                    .build();
                            Timed fetchHttp = new Timed(HttpClientFactory.builder().connectTimeout(FETCH_CONNECT)
                                    .socketTimeout(FETCH_READ).build());
                            ScriptFetcher fetcher = ScriptFetcher.builder().trustedKeys(trusted).requireSignature(true)
                                    .retryPolicy(FETCH_POLICY).readTimeout(FETCH_READ).httpClient(fetchHttp).build();
                            Timed reportHttp = new Timed(HttpClientFactory.builder()
                                    .connectTimeout(reporting.perCallTimeout())
                                    .socketTimeout(reporting.perCallTimeout()).build())) {
                        long t0 = System.nanoTime();
                        imds.identity(); // as the agent's Discover: identity, then user-data, one token
                        byte[] userData = imds.userData().orElseThrow();
                        record(stepMs, "metadata", t0);
                        String name = new String(userData, StandardCharsets.UTF_8).strip().split("\\s+")[0];
                        t0 = System.nanoTime();
                        FetchResult r = fetcher.fetch(FetchRequest.builder(files.resolve(name), dir, name)
                                .digest(Optional.of(new Digest(DigestAlgorithm.SHA256, sha)))
                                .deadline(runStart.plus(DEADLINE)).build());
                        record(stepMs, "fetch", t0);
                        if (r.trust() != Trust.SIGNATURE) {
                            throw new IllegalStateException("trust " + r.trust());
                        }
                        fetched.incrementAndGet();
                        AgentReporter reporter = new AgentReporter(reportHttp, reports, budget, reporting.retry(),
                                aborter, random);
                        TaskStatus task = TaskStatus.builder(name, TaskState.SUCCEEDED).exitCode(0).build();
                        InstanceInfo instance = new InstanceInfo(id, "ec2", Optional.empty(), Optional.empty());
                        // as RunRecord: one report when the task has ended, one when the run has
                        RunStatus ended = RunStatus.builder(RunState.RUNNING).runId("run-" + id).revision(3)
                                .startedAt(runStart).instance(instance).tasks(List.of(task)).build();
                        RunStatus finished = RunStatus.builder(RunState.DONE).runId("run-" + id).revision(4)
                                .startedAt(runStart).finishedAt(Instant.now()).exitCode(OptionalInt.of(0))
                                .instance(instance).tasks(List.of(task)).build();
                        t0 = System.nanoTime();
                        String first = reporter.send(codec.write(ended));
                        reportOutcomes.merge("task ended: " + first, 1, Integer::sum);
                        String last = reporter.send(codec.write(finished));
                        reportOutcomes.merge("run done: " + last, 1, Integer::sum);
                        record(stepMs, "reports-with-retries", t0);
                        if (last.equals(AgentReporter.SENT)) {
                            sent.incrementAndGet();
                        }
                        bootMs.add((System.nanoTime() - boot0) / 1_000_000);
                    }
                } catch (Exception e) {
                    // numbers masked (ports, ids), but not HTTP status codes
                    String why = e.getClass().getSimpleName() + ": " + String.valueOf(e.getMessage())
                            .replaceAll("(?<!HTTP )\\b[0-9]+", "N");
                    errors.merge(why.length() > 200 ? why.substring(0, 200) : why, 1, Integer::sum);
                } finally {
                    done.countDown();
                }
            }, "agent-" + n);
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
        while (!done.await(1, java.util.concurrent.TimeUnit.SECONDS)) {
            if (progress.isPresent()) {
                Files.writeString(progress.get(), sent.get() + "\n");
            }
        }
        progress.ifPresent(p -> {
            try {
                Files.writeString(p, sent.get() + "\n");
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        long wall = System.currentTimeMillis() - herdStart;

        System.out.printf("agents: %d, start spread %d ms (uniform), herd wall time %.1f s%n", agents, spreadMs,
                wall / 1000.0);
        System.out.printf("report policy: %s, %d ms per call (the agent's, for a %d s budget)%n", reporting.retry(),
                reporting.perCallTimeout().toMillis(), budget.toSeconds());
        System.out.printf("scripts fetched and verified (sha256 + Ed25519): %d; final reports sent (2xx): %d%n",
                fetched.get(), sent.get());
        System.out.println("reports: " + new TreeMap<>(reportOutcomes));
        System.out.println("errors: " + (errors.isEmpty() ? "none" : errors));
        System.out.println("per request, answered attempts (ms): step  n  p50  p99  max | failed attempts");
        List<Attempt> all = new ArrayList<>(ATTEMPTS);
        for (String step : STEPS) {
            List<Long> ok = new ArrayList<>();
            int failed = 0;
            for (Attempt at : all) {
                if (at.step().equals(step)) {
                    if (at.answered()) {
                        ok.add(at.nanos() / 1000);
                    } else {
                        failed++;
                    }
                }
            }
            Collections.sort(ok);
            System.out.printf("  %-10s %5d  %7.1f %7.1f %7.1f | %d%n", step, ok.size(), q(ok, 0.50) / 1000.0,
                    q(ok, 0.99) / 1000.0, ok.isEmpty() ? 0 : ok.get(ok.size() - 1) / 1000.0, failed);
        }
        System.out.println("per agent, first attempt to success incl. retries (ms): n  p50  p99  max");
        for (String step : List.of("metadata", "fetch", "reports-with-retries")) {
            List<Long> v = new ArrayList<>(stepMs.getOrDefault(step, List.of()));
            Collections.sort(v);
            System.out.printf("  %-20s %5d %7d %7d %7d%n", step, v.size(), q(v, 0.5), q(v, 0.99),
                    v.isEmpty() ? 0 : v.get(v.size() - 1));
        }
        List<Long> boots = new ArrayList<>(bootMs);
        Collections.sort(boots);
        System.out.printf("  %-20s %5d %7d %7d %7d%n", "whole boot", boots.size(), q(boots, 0.5), q(boots, 0.99),
                boots.isEmpty() ? 0 : boots.get(boots.size() - 1));
        // how the attempts spread: requests per 100 ms window
        long origin = 0;
        String from = "the herd's start";
        if (startedFile.isPresent() && Files.exists(startedFile.get())) {
            origin = Long.parseLong(Files.readString(startedFile.get()).strip()) - herdStart;
            from = "the server's start";
        }
        TreeMap<Long, Integer> windows = new TreeMap<>();
        TreeMap<Long, Integer> before = new TreeMap<>();
        for (Attempt at : all) {
            long w = Math.floorDiv(at.startMs() - origin, 100);
            (w < 0 ? before : windows).merge(w, 1, Integer::sum);
        }
        int peak = windows.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        long peakAt = windows.entrySet().stream().filter(e -> e.getValue() == peak).map(Map.Entry::getKey)
                .findFirst().orElse(0L);
        System.out.printf("attempts: %d in all (%d before %s); busiest 100 ms window after it: %d attempts at +%d ms%n",
                all.size(), before.values().stream().mapToInt(Integer::intValue).sum(), from, peak, peakAt * 100);
        StringBuilder first = new StringBuilder();
        for (long w = 0; w < 30; w++) {
            first.append(windows.getOrDefault(w, 0)).append(w % 10 == 9 ? " | " : " ");
        }
        System.out.println("attempts per 100 ms in the first 3 s after " + from + ": " + first.toString().strip());
    }

    static void record(Map<String, List<Long>> stepMs, String step, long t0) {
        stepMs.computeIfAbsent(step, k -> Collections.synchronizedList(new ArrayList<>()))
                .add((System.nanoTime() - t0) / 1_000_000);
    }

    static long q(List<Long> sorted, double p) {
        if (sorted.isEmpty()) {
            return 0;
        }
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
    }

    /**
     * The agent's {@code Reporter}, line for line, on the system clock: through the one {@link RetryLoop} under the
     * report policy (at most {@code policy.maxAttempts()} attempts per report; 200 ms doubling to 2 s with full
     * jitter; no attempt after a wait that would pass the budget), all reports of the run sharing the budget (the
     * time spent reporting); each request aborted when the budget runs out while it is in flight; I/O errors and the
     * statuses {@link RetryLoop#retriedStatus} names are retried, any other answer ends it. Never throws: it says
     * what became of the report.
     */
    static final class AgentReporter {
        static final String SENT = "sent";
        private final CloseableHttpClient http;
        private final URI url;
        private final Duration budget;
        private final RetryLoop loop;
        private final ScheduledExecutorService aborter;
        private Duration spent = Duration.ZERO;
        private boolean exhausted;

        AgentReporter(CloseableHttpClient http, URI url, Duration budget, RetryPolicy policy,
                ScheduledExecutorService aborter, SplittableRandom random) {
            this.http = http;
            this.url = url;
            this.budget = budget;
            this.loop = RetryLoop.of(policy, Clock.systemUTC(), Sleeper.SYSTEM, random);
            this.aborter = aborter;
        }

        String send(byte[] body) {
            if (exhausted) {
                return "not sent (budget spent before)";
            }
            Instant began = Instant.now();
            try {
                Instant deadline = began.plus(budget.minus(spent));
                return loop.run(deadline, attempt -> post(body, deadline, attempt), this::lost);
            } catch (RuntimeException e) {
                // the Reporter catches only IOException and the runtime errors of an abort: this escapes from the
                // agent's Reporter.send into its run
                exhausted = true;
                return "lost: " + e.getClass().getSimpleName() + " escaped the reporter (" + e.getMessage() + ")";
            } finally {
                spent = spent.plus(Duration.between(began, Instant.now()));
            }
        }

        private RetryLoop.Outcome<String> post(byte[] body, Instant deadline, int attempt) {
            Duration left = Duration.between(Instant.now(), deadline);
            if (left.isNegative() || left.isZero()) {
                exhausted = true;
                return RetryLoop.Outcome.done("lost: budget spent (after " + (attempt - 1) + " attempts)");
            }
            HttpPost post = new HttpPost(url);
            post.setEntity(new ByteArrayEntity(body, ContentType.APPLICATION_JSON));
            ScheduledFuture<?> abort = aborter.schedule(post::cancel, left.toMillis(), TimeUnit.MILLISECONDS);
            int code;
            try (ClassicHttpResponse response = http.executeOpen(null, post, null)) {
                code = response.getCode();
            } catch (IOException | RuntimeException e) { // as the Reporter: an abort can surface as IllegalStateException
                if (post.isCancelled()) {
                    exhausted = true;
                    return RetryLoop.Outcome.done("lost: budget spent (aborted in flight, attempt " + attempt + ")");
                }
                return RetryLoop.Outcome.retry(new IOException(e.getClass().getSimpleName()));
            } finally {
                abort.cancel(false);
            }
            if (code / 100 == 2) {
                return RetryLoop.Outcome.done(SENT);
            }
            if (!RetryLoop.retriedStatus(code)) {
                return RetryLoop.Outcome.done("lost: refused (HTTP " + code + ")");
            }
            return RetryLoop.Outcome.retry(new IOException("HTTP " + code));
        }

        private String lost(RetryLoop.Stop stop) {
            String last = stop.lastFailure().map(Throwable::getMessage).orElse("none");
            return switch (stop.reason()) {
                case ATTEMPTS -> "lost: " + stop.attempts() + " attempts failed (last " + last + ")";
                case DEADLINE -> "lost: the budget cannot hold another wait (after " + stop.attempts()
                        + " attempts, last " + last + ")";
                case INTERRUPTED -> "lost: interrupted";
            };
        }
    }
}
