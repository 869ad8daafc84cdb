import dev.whatami.status.InstanceInfo;
import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import dev.whatami.status.StatusCodec;
import dev.whatami.status.TaskState;
import dev.whatami.status.TaskStatus;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A fleet boot: N simulated agents report into the given servers (agent i to server i mod count, as a load balancer
 * would spread them), each as the agent's {@code Reporter} does at the end of a one-task run: the report "task
 * ended" (running, revision 3), then, after the task's last step (200–1000 ms), the report "run done" (revision 4),
 * each with the fleet's report token and the instance's own 32-byte key ({@code Whatami-Instance-Key}). The agents
 * start uniformly over the window (open loop: a report's latency counts from when its agent meant to send it, so a
 * slow server is not hidden by a generator that waits for it). A failed attempt (I/O error, 408, 429, 5xx) is retried
 * under the agent's report policy: at most 6 attempts, waits of 200 ms doubling to 2 s with full jitter, 3 s per call,
 * 30 s for both reports. At most {@code inflight} requests are open at once: that many sender threads, each with
 * a kept-alive connection to each server (plain HTTP/1.1 on a socket; a real fleet opens one per instance).
 *
 * <p>Then the status page as an operator reads it at that size: the first pages of {@code /status} (HTML) and
 * {@code /status.json}, a filtered page and a deep page, each {@code page-reads} times in turn; p50/p95/max each.
 * Loopback only: every URL it is given is the caller's. Run by {@code bench/fleet.sh}.
 */
public final class Fleet {
    static final int MAX_ATTEMPTS = 6;
    static final long BASE_MS = 200;
    static final long CAP_MS = 2000;
    static final Duration PER_CALL = Duration.ofSeconds(3);
    static final long BUDGET_MS = 30_000;

    public static void main(String[] argv) throws Exception {
        Map<String, String> a = new TreeMap<>();
        for (String s : argv) {
            int eq = s.indexOf('=');
            a.put(s.substring(0, eq), s.substring(eq + 1));
        }
        List<URI> servers = Arrays.stream(a.get("reports").split(",")).map(URI::create).toList();
        String token = Files.readString(Path.of(a.get("token-file"))).strip();
        int agents = Integer.parseInt(a.getOrDefault("agents", "100000"));
        long windowMs = Long.parseLong(a.getOrDefault("window-s", "60")) * 1000;
        int inflight = Integer.parseInt(a.getOrDefault("inflight", "256"));
        int pageReads = Integer.parseInt(a.getOrDefault("page-reads", "100"));
        String tag = a.getOrDefault("tag", "f");

        StatusCodec codec = StatusCodec.create();
        ScheduledExecutorService timer = Executors.newScheduledThreadPool(1);
        // the requests due, in the order they fell due; {@code inflight} senders take them, each on keep-alive
        // connections of its own (plain HTTP/1.1 over a socket: the JDK's HttpClient cost the generator as much CPU
        // as both servers together, on the same two cores)
        LinkedBlockingQueue<Runnable> due = new LinkedBlockingQueue<>();
        ThreadLocal<Connections> connections = ThreadLocal.withInitial(Connections::new);
        SplittableRandom seeds = new SplittableRandom(26);
        long[] startMs = new long[agents];
        for (int i = 0; i < agents; i++) {
            startMs[i] = (long) (seeds.nextDouble() * windowMs);
        }
        Arrays.sort(startMs);

        int reports = agents * 2;
        long[] latencyMs = new long[reports]; // first intended send to the 2xx, per report; -1 when lost
        long[] serviceMs = new long[reports]; // the landing attempt's request to its answer
        Arrays.fill(latencyMs, -1);
        AtomicInteger[] attemptsHist = new AtomicInteger[MAX_ATTEMPTS + 1];
        Arrays.setAll(attemptsHist, i -> new AtomicInteger());
        Map<String, AtomicInteger> failures = new ConcurrentHashMap<>(); // a failed attempt's status or error
        AtomicLongArray perSecond = new AtomicLongArray((int) (windowMs / 1000) + 120); // 2xx per second of the run
        AtomicInteger lost = new AtomicInteger();
        CountDownLatch finished = new CountDownLatch(agents);
        long t0 = System.nanoTime();

        final class Agent {
            final int n;
            final String id;
            final String key;
            final SplittableRandom random;
            final Instant runStart = Instant.now();
            long budgetEnd;

            Agent(int n) {
                this.n = n;
                this.id = String.format("i-%s-%06d", tag, n);
                this.random = new SplittableRandom(n * 31L + 7);
                byte[] k = new byte[32];
                for (int i = 0; i < k.length; i++) {
                    k[i] = (byte) random.nextInt(256);
                }
                this.key = Base64.getUrlEncoder().withoutPadding().encodeToString(k);
            }

            byte[] body(boolean done) {
                TaskStatus task = TaskStatus.builder("collector.sh", TaskState.SUCCEEDED).exitCode(0).build();
                InstanceInfo instance = new InstanceInfo(id, "ec2", Optional.empty(), Optional.empty());
                RunStatus.Builder b = RunStatus.builder(done ? RunState.DONE : RunState.RUNNING).runId("run-" + id)
                        .revision(done ? 4 : 3).startedAt(runStart).instance(instance).tasks(List.of(task));
                if (done) {
                    b.finishedAt(Instant.now()).exitCode(OptionalInt.of(0));
                }
                return codec.write(b.build());
            }

            /** Queues the attempt: a sender takes it as soon as one is free. */
            void send(int which, long intendedNanos, int attempt) {
                due.add(() -> attempt(which, intendedNanos, attempt));
            }

            /** On a sender's thread: the request on its connection to this agent's server, and what follows. */
            void attempt(int which, long intendedNanos, int attempt) {
                long sentNanos = System.nanoTime();
                int server = n % servers.size();
                URI url = servers.get(server);
                byte[] json = body(which == 1);
                byte[] head = ("POST " + url.getRawPath() + " HTTP/1.1\r\nHost: " + url.getRawAuthority()
                        + "\r\nContent-Type: application/json\r\nAuthorization: Bearer " + token
                        + "\r\nWhatami-Instance-Key: " + key + "\r\nContent-Length: " + json.length + "\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1);
                int status = -1;
                String error = null;
                try {
                    status = connections.get().exchange(server, url, head, json);
                } catch (IOException e) {
                    error = e.getClass().getSimpleName();
                }
                {
                    String failure = null;
                    if (error != null) {
                        failure = error;
                    } else if (status / 100 != 2) {
                        int s = status;
                        boolean retried = s == 408 || s == 429 || s / 100 == 5;
                        failure = retried ? "HTTP " + s : "HTTP " + s + " (not retried)";
                        if (!retried) {
                            giveUp(which, failure);
                            return;
                        }
                    }
                    if (failure == null) {
                        long now = System.nanoTime();
                        latencyMs[n * 2 + which] = (now - intendedNanos) / 1_000_000;
                        serviceMs[n * 2 + which] = (now - sentNanos) / 1_000_000;
                        attemptsHist[attempt].incrementAndGet();
                        perSecond.incrementAndGet((int) Math.min(perSecond.length() - 1, (now - t0) / 1_000_000_000L));
                        if (which == 0) {
                            long taskMs = 200 + random.nextInt(800);
                            timer.schedule(() -> send(1, System.nanoTime(), 1), taskMs, TimeUnit.MILLISECONDS);
                        } else {
                            finished.countDown();
                        }
                        return;
                    }
                    failures.computeIfAbsent(failure, f -> new AtomicInteger()).incrementAndGet();
                    long wait = random.nextLong(Math.min(CAP_MS, BASE_MS << (attempt - 1)) + 1);
                    long nowMs = (System.nanoTime() - t0) / 1_000_000;
                    if (attempt >= MAX_ATTEMPTS || nowMs + wait > budgetEnd) {
                        giveUp(which, failure);
                        return;
                    }
                    timer.schedule(() -> send(which, intendedNanos, attempt + 1), wait, TimeUnit.MILLISECONDS);
                }
            }

            void giveUp(int which, String why) {
                lost.incrementAndGet();
                failures.computeIfAbsent("lost after " + why, f -> new AtomicInteger()).incrementAndGet();
                finished.countDown();
            }
        }

        for (int i = 0; i < inflight; i++) {
            Thread sender = new Thread(() -> {
                try {
                    while (true) {
                        due.take().run();
                    }
                } catch (InterruptedException e) {
                    connections.get().close();
                }
            }, "sender-" + i);
            sender.setDaemon(true);
            sender.start();
        }
        for (int i = 0; i < agents; i++) {
            long at = t0 + startMs[i] * 1_000_000;
            long ahead = at - System.nanoTime();
            if (ahead > 1_000_000) {
                TimeUnit.NANOSECONDS.sleep(ahead);
            }
            Agent agent = new Agent(i);
            agent.budgetEnd = (System.nanoTime() - t0) / 1_000_000 + BUDGET_MS;
            agent.send(0, at, 1);
        }
        if (!finished.await(10, TimeUnit.MINUTES)) {
            System.out.println("NOT FINISHED after 10 minutes: " + finished.getCount() + " agents still reporting");
        }
        long endNanos = System.nanoTime();
        timer.shutdownNow();

        long[] ok = Arrays.stream(latencyMs).filter(v -> v >= 0).sorted().toArray();
        System.out.printf("agents: %d over %d s to %d server(s), at most %d requests open%n", agents, windowMs / 1000,
                servers.size(), inflight);
        System.out.printf("reports: %d sent (2xx) of %d, %d lost; whole run %.1f s%n", ok.length, reports,
                lost.get(), (endNanos - t0) / 1e9);
        System.out.printf("report latency from the intended send, ms: p50 %d, p90 %d, p99 %d, p99.9 %d, max %d%n",
                pct(ok, 50), pct(ok, 90), pct(ok, 99), pct(ok, 99.9), ok.length == 0 ? 0 : ok[ok.length - 1]);
        long[] svc = Arrays.stream(serviceMs).filter(v -> v > 0).sorted().toArray();
        System.out.printf("the landing request alone, ms: p50 %d, p90 %d, p99 %d, max %d%n", pct(svc, 50),
                pct(svc, 90), pct(svc, 99), svc.length == 0 ? 0 : svc[svc.length - 1]);
        StringBuilder att = new StringBuilder();
        for (int i = 1; i <= MAX_ATTEMPTS; i++) {
            att.append(i == 1 ? "" : ", ").append(i).append(": ").append(attemptsHist[i].get());
        }
        System.out.println("reports by the attempt that landed them: " + att);
        System.out.println("failed attempts: " + (failures.isEmpty() ? "none" : new TreeMap<>(failures)));
        // sustained: the 2xx per second over the seconds in which agents were still starting (the window, less its
        // first and last 5 s), its lowest, median and highest second
        List<Long> steady = new ArrayList<>();
        StringBuilder bySecond = new StringBuilder();
        for (int s = 5; s < windowMs / 1000 - 5 && s < perSecond.length(); s++) {
            steady.add(perSecond.get(s));
            bySecond.append(bySecond.length() == 0 ? "" : " ").append(perSecond.get(s));
        }
        steady.sort(null);
        if (!steady.isEmpty()) {
            System.out.printf("reports/s while the fleet boots (seconds 5..%d): lowest %d, 10th percentile %d, median %d, "
                    + "highest %d (offered: %d/s); every second: %s%n", windowMs / 1000 - 5, steady.get(0),
                    steady.get(steady.size() / 10), steady.get(steady.size() / 2), steady.get(steady.size() - 1),
                    reports * 1000L / windowMs, bySecond);
        }

        if (a.containsKey("pause-file")) { // the caller measures what the fleet's boot cost, then deletes the file
            Path pause = Path.of(a.get("pause-file"));
            Files.writeString(pause, "reports sent\n");
            for (int i = 0; i < 600 && Files.exists(pause); i++) {
                Thread.sleep(100);
            }
        }
        if (a.containsKey("status")) {
            URI status = URI.create(a.get("status"));
            int lastPage = Math.max(1, agents / 100); // the default page holds 100
            String[][] pages = {
                {"/status (HTML, first page)", "/status"},
                {"/status.json (first page)", "/status.json"},
                {"/status.json?state=done&per=100", "/status.json?state=done&per=100"},
                {"/status.json?page=" + lastPage + " (deep)", "/status.json?page=" + lastPage},
            };
            HttpClient reader = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            for (String[] p : pages) {
                long[] ms = new long[pageReads];
                long bytes = 0;
                for (int i = 0; i < pageReads; i++) {
                    long s = System.nanoTime();
                    HttpResponse<byte[]> r = reader.send(HttpRequest.newBuilder(status.resolve(p[1])).build(),
                            HttpResponse.BodyHandlers.ofByteArray());
                    ms[i] = (System.nanoTime() - s) / 1_000_000;
                    if (r.statusCode() != 200) {
                        throw new IOException(p[1] + " answered " + r.statusCode());
                    }
                    bytes = r.body().length;
                }
                Arrays.sort(ms);
                System.out.printf("page %-40s %6d bytes: p50 %d ms, p95 %d ms, max %d ms (%d reads)%n", p[0], bytes,
                        pct(ms, 50), pct(ms, 95), ms[ms.length - 1], pageReads);
            }
        }
        System.exit(lost.get() == 0 && ok.length == reports ? 0 : 1);
    }

    /**
     * A sender's keep-alive connections, one per server, opened when first needed and again after an error or a
     * {@code Connection: close}; each exchange sends the request and reads its answer whole (status line, headers,
     * a {@code Content-Length} body), within {@link #PER_CALL}.
     */
    static final class Connections {
        private final Map<Integer, Socket> sockets = new HashMap<>();
        private final Map<Integer, InputStream> ins = new HashMap<>();

        int exchange(int server, URI url, byte[] head, byte[] body) throws IOException {
            Socket s = sockets.get(server);
            if (s == null) {
                s = new Socket();
                s.connect(new InetSocketAddress(url.getHost(), url.getPort()), (int) PER_CALL.toMillis());
                s.setTcpNoDelay(true);
                s.setSoTimeout((int) PER_CALL.toMillis());
                sockets.put(server, s);
                ins.put(server, new BufferedInputStream(s.getInputStream(), 8192));
            }
            try {
                OutputStream out = s.getOutputStream();
                byte[] all = Arrays.copyOf(head, head.length + body.length);
                System.arraycopy(body, 0, all, head.length, body.length);
                out.write(all);
                out.flush();
                InputStream in = ins.get(server);
                String statusLine = line(in);
                String[] parts = statusLine.split(" ", 3);
                if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
                    throw new IOException("not an HTTP answer: " + statusLine);
                }
                int status = Integer.parseInt(parts[1]);
                long length = 0;
                boolean close = false;
                for (String h = line(in); !h.isEmpty(); h = line(in)) {
                    int colon = h.indexOf(':');
                    String name = colon < 0 ? h : h.substring(0, colon).trim();
                    String value = colon < 0 ? "" : h.substring(colon + 1).trim();
                    if (name.equalsIgnoreCase("Content-Length")) {
                        length = Long.parseLong(value);
                    } else if (name.equalsIgnoreCase("Connection") && value.equalsIgnoreCase("close")) {
                        close = true;
                    } else if (name.equalsIgnoreCase("Transfer-Encoding")) {
                        throw new IOException("a chunked answer: this generator reads Content-Length only");
                    }
                }
                in.skipNBytes(length);
                if (close) {
                    drop(server);
                }
                return status;
            } catch (IOException | RuntimeException e) {
                drop(server);
                throw e instanceof IOException io ? io : new IOException(e);
            }
        }

        private static String line(InputStream in) throws IOException {
            StringBuilder b = new StringBuilder();
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0) {
                    throw new EOFException("the connection closed");
                }
                if (c != '\r') {
                    b.append((char) c);
                }
            }
            return b.toString();
        }

        private void drop(int server) {
            Socket s = sockets.remove(server);
            ins.remove(server);
            if (s != null) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // already gone
                }
            }
        }

        void close() {
            for (Integer server : List.copyOf(sockets.keySet())) {
                drop(server);
            }
        }
    }

    static long pct(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int i = (int) Math.ceil(p / 100 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }
}
