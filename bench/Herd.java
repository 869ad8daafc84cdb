import dev.whatami.fetch.FetchRequest;
import dev.whatami.fetch.FetchResult;
import dev.whatami.fetch.ScriptFetcher;
import dev.whatami.fetch.TrustLevel;
import dev.whatami.fetch.TrustedKeys;
import dev.whatami.metadata.HttpClientFactory;
import dev.whatami.metadata.MetadataClient;
import dev.whatami.metadata.RetryPolicy;
import dev.whatami.status.InstanceInfo;
import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import dev.whatami.status.StatusCodec;
import dev.whatami.status.TaskState;
import dev.whatami.status.TaskStatus;
import dev.whatami.userdata.Digest;
import dev.whatami.userdata.DigestAlgorithm;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.CloseableHttpResponse;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.support.ClassicRequestBuilder;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.io.CloseMode;

/**
 * The herd (issue 18): N simulated agents, each on its own thread with its own clients, as a booting instance
 * would — IMDSv2 token and user-data through the real {@link MetadataClient}, the script and its signature through
 * the real {@link ScriptFetcher} (sha256 pin, Ed25519 signature required), then the phone-home report — each step
 * under the agent's {@link RetryPolicy} (defaults: 100 ms doubling to 2 s, full jitter, 120 s deadline), started at
 * a uniformly jittered moment within the spread. Every HTTP attempt is timed by a wrapper around the client the
 * libraries are given. Prints p50/p99 per step, attempts, errors, reports sent, and how the attempts spread over
 * time. Loopback only. Run by bench/herd.sh: {@code java -cp whatami-agent.jar bench/Herd.java KEY=VALUE...}.
 */
public class Herd {
    static final String[] STEPS = {"token", "user-data", "script", "signature", "report"};

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
                boolean ok = r.getCode() < 500 && r.getCode() != 429;
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

        RetryPolicy policy = RetryPolicy.defaults();
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
                    Path dir = Files.createDirectories(work.resolve(id));
                    try (Timed http = new Timed(HttpClientFactory.builder().build());
                            MetadataClient imds = MetadataClient.builder().endpoint(metadata).imdsV2Required(true)
                                    .retryPolicy(policy).httpClient(http).build();
                            ScriptFetcher fetcher = ScriptFetcher.builder().trustedKeys(trusted).requireSignature(true)
                                    .retryPolicy(policy).httpClient(http).build()) {
                        long t0 = System.nanoTime();
                        byte[] userData = imds.userData().orElseThrow();
                        record(stepMs, "metadata", t0);
                        String name = new String(userData, StandardCharsets.UTF_8).strip().split("\\s+")[0];
                        t0 = System.nanoTime();
                        FetchResult r = fetcher.fetch(FetchRequest.builder(files.resolve(name), dir, name)
                                .digest(Optional.of(new Digest(DigestAlgorithm.SHA256, sha)))
                                .deadline(Instant.now().plus(policy.deadline())).build());
                        record(stepMs, "fetch", t0);
                        if (r.trust() != TrustLevel.SIGNATURE) {
                            throw new IllegalStateException("trust " + r.trust());
                        }
                        fetched.incrementAndGet();
                        RunStatus status = RunStatus.builder(RunState.DONE).runId("run-" + id).revision(1)
                                .startedAt(Instant.now()).exitCode(OptionalInt.of(0))
                                .instance(new InstanceInfo(id, "ec2", Optional.empty(), Optional.empty()))
                                .tasks(List.of(TaskStatus.builder(name, TaskState.SUCCEEDED).exitCode(0).build()))
                                .build();
                        t0 = System.nanoTime();
                        report(http, reports, codec.write(status), policy, random);
                        record(stepMs, "report-with-retries", t0);
                        sent.incrementAndGet();
                        bootMs.add((System.nanoTime() - boot0) / 1_000_000);
                    }
                } catch (Exception e) {
                    String why = e.getClass().getSimpleName() + ": " + String.valueOf(e.getMessage())
                            .replaceAll("[0-9]+", "N");
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
        System.out.printf("scripts fetched and verified (sha256 + Ed25519): %d; reports sent (2xx): %d%n",
                fetched.get(), sent.get());
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
        for (String step : List.of("metadata", "fetch", "report-with-retries")) {
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
     * POST /reports under the policy: I/O errors, 5xx and 429 are retried after the policy's jittered delay (or the
     * server's Retry-After, never past the deadline); any other answer ends it (2xx: sent).
     */
    static void report(CloseableHttpClient http, URI url, byte[] body, RetryPolicy policy, SplittableRandom random)
            throws Exception {
        long deadline = System.nanoTime() + policy.deadline().toNanos();
        for (int attempt = 1; ; attempt++) {
            String failure;
            Duration retryAfter = Duration.ZERO;
            try {
                ClassicHttpRequest post = ClassicRequestBuilder.post(url)
                        .setEntity(new ByteArrayEntity(body, ContentType.APPLICATION_JSON)).build();
                int[] code = new int[1];
                Header[] ra = new Header[1];
                http.execute(post, response -> {
                    code[0] = response.getCode();
                    ra[0] = response.getFirstHeader("Retry-After");
                    EntityUtils.consume(response.getEntity());
                    return null;
                });
                if (code[0] / 100 == 2) {
                    return;
                }
                if (code[0] < 500 && code[0] != 429) {
                    throw new IllegalStateException("report refused: HTTP " + code[0]);
                }
                failure = "HTTP " + code[0];
                if (ra[0] != null) {
                    try {
                        retryAfter = Duration.ofSeconds(Long.parseLong(ra[0].getValue().strip()));
                    } catch (NumberFormatException e) {
                        // a date: use the policy's delay
                    }
                }
            } catch (IOException e) {
                failure = e.toString();
            }
            Duration wait = policy.delay(attempt, random);
            if (retryAfter.compareTo(wait) > 0) {
                wait = retryAfter;
            }
            if (!policy.allowsAttempt(attempt) || System.nanoTime() + wait.toNanos() > deadline) {
                throw new IOException("report not sent after " + attempt + " attempts: " + failure);
            }
            Thread.sleep(wait.toMillis());
        }
    }
}
