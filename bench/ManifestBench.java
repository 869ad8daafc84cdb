import com.sun.net.httpserver.HttpServer;
import dev.whatami.fetch.FetchRequest;
import dev.whatami.fetch.ManifestTrust;
import dev.whatami.fetch.MinisignKey;
import dev.whatami.fetch.MinisignSigner;
import dev.whatami.fetch.ScriptFetcher;
import dev.whatami.fetch.TrustedKeys;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.Signature;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What verifying a signed manifest costs one boot: java -cp whatami-agent.jar:. ManifestBench MODE WARM WORK
 * MODE prepare (once, in a JVM of its own, so that no timed JVM has run Ed25519 before its fetch) writes WORK/www/roles:
 * a 4 KiB collector.sh, its .sig, keys.json, a manifest.json of 50 scripts and their .minisig, and the two public
 * keys. Then, each in a fresh JVM as at boot: none (plain http, nothing vouches), sig (a per-script .sig with a trusted
 * key), manifest (a first boot: keys.json, manifest.json and their .minisig fetched, two Ed25519 verifications, the
 * state file written) or again (a later boot of the same instance: the state a manifest run left says these bytes
 * were verified, so only keys.json and manifest.json are fetched and parsed). It times the first fetch with a new
 * fetcher from a loopback server, then the median of WARM more, each with a new fetcher (a manifest run gives each a
 * new state file). Prints "MODE first_ms first_cpu_ms warm_median_ms warm_median_cpu_ms": wall time, and the CPU time
 * of the fetching thread (what the fetcher itself spends: parsing, hashing, Ed25519, class loading; not the waits for
 * the server), which a loaded machine disturbs far less. The agent has loaded jackson-jr for status.json before its
 * first fetch; so does this, before timing.
 */
public class ManifestBench {
    public static void main(String[] args) throws Exception {
        String mode = args[0];
        int warm = Integer.parseInt(args[1]);
        Path work = Path.of(args[2]);
        if (mode.equals("prepare")) {
            prepare(work);
            return;
        }
        Map<String, byte[]> files = new HashMap<>();
        try (Stream<Path> list = Files.list(work.resolve("www/roles"))) {
            for (Path p : list.toList()) {
                files.put("/roles/" + p.getFileName(), Files.readAllBytes(p));
            }
        }
        String rootPub = Files.readString(work.resolve("root.pub"));
        String pem = Files.readString(work.resolve("owner.pem"));
        com.fasterxml.jackson.jr.ob.JSON.std.mapFrom("{\"status\": \"loaded\"}");
        THREADS.getCurrentThreadCpuTime();

        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            byte[] body = files.get(ex.getRequestURI().getPath());
            // a new connection per request: the JDK's little server on a kept-alive connection meets the 40 ms
            // delayed ACK, which real servers (Jetty, nginx) do not; a loopback connect costs about 0.1 ms
            ex.getResponseHeaders().set("Connection", "close");
            ex.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : body.length);
            if (body != null) {
                ex.getResponseBody().write(body);
            }
            ex.close();
        });
        server.start();
        URI url = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/roles/collector.sh");
        try {
            if (mode.equals("manifest")) {
                Files.deleteIfExists(work.resolve("state/manifests.json"));
            }
            double[] first = once(mode, url, work, 0, rootPub, pem);
            double[] wall = new double[warm];
            double[] cpu = new double[warm];
            for (int i = 0; i < warm; i++) {
                double[] t = once(mode, url, work, i + 1, rootPub, pem);
                wall[i] = t[0];
                cpu[i] = t[1];
            }
            java.util.Arrays.sort(wall);
            java.util.Arrays.sort(cpu);
            System.out.printf(java.util.Locale.ROOT, "%s %.2f %.2f %.3f %.3f%n", mode, first[0], first[1],
                    warm == 0 ? 0 : wall[warm / 2], warm == 0 ? 0 : cpu[warm / 2]);
        } finally {
            server.stop(0);
        }
    }

    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory
            .getThreadMXBean();

    /** Wall and CPU milliseconds of one fetch with a new fetcher. */
    private static double[] once(String mode, URI url, Path work, int i, String rootPub, String pem) {
        long cpu = THREADS.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        ScriptFetcher.Builder b = ScriptFetcher.builder();
        if (mode.equals("manifest") || mode.equals("again")) {
            Path state = work.resolve(mode.equals("manifest") && i > 0 ? "warm-" + i + "/manifests.json"
                    : "state/manifests.json");
            b.manifestTrust(ManifestTrust.of(MinisignKey.parse(rootPub, "root.pub"), state));
        } else if (mode.equals("sig")) {
            b.trustedKeys(TrustedKeys.of("owner.pub", pem));
        }
        try (ScriptFetcher f = b.build()) {
            f.fetch(FetchRequest.builder(url, work.resolve("task-" + mode + "-" + i), "collector.sh").build());
        }
        return new double[] {(System.nanoTime() - start) / 1e6, (THREADS.getCurrentThreadCpuTime() - cpu) / 1e6};
    }

    private static void prepare(Path work) throws Exception {
        Path roles = Files.createDirectories(work.resolve("www/roles"));
        byte[] script = new byte[4096];
        System.arraycopy("#!/bin/sh\necho hi\n".getBytes(StandardCharsets.UTF_8), 0, script, 0, 18);
        MinisignSigner root = MinisignSigner.generate();
        MinisignSigner signer = MinisignSigner.generate();
        KeyPair pem = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(script));
        byte[] keys = ("{\"type\": \"whatami-keys/1\", \"version\": 1, \"expires\": \"2099-01-01T00:00:00Z\", \"keys\": "
                + "[{\"key\": \"" + signer.publicKey().base64() + "\", \"expires\": \"2099-01-01T00:00:00Z\"}]}")
                .getBytes(StandardCharsets.UTF_8);
        StringBuilder m = new StringBuilder("{\"type\": \"whatami-manifest/1\", \"name\": \"roles\", \"version\": 1, "
                + "\"expires\": \"2099-01-01T00:00:00Z\", \"files\": {\"collector.sh\": {\"sha256\": \"" + sha + "\"}");
        for (int i = 0; i < 49; i++) { // a directory of 50 scripts
            m.append(", \"role-").append(i).append(".sh\": {\"sha256\": \"").append(sha).append("\"}");
        }
        byte[] manifest = m.append("}}").toString().getBytes(StandardCharsets.UTF_8);
        Files.write(roles.resolve("collector.sh"), script);
        Files.write(roles.resolve("keys.json"), keys);
        Files.writeString(roles.resolve("keys.json.minisig"), root.sign(keys, "keys"));
        Files.write(roles.resolve("manifest.json"), manifest);
        Files.writeString(roles.resolve("manifest.json.minisig"), signer.sign(manifest, "manifest"));
        Signature s = Signature.getInstance("Ed25519");
        s.initSign(pem.getPrivate());
        s.update(script);
        Files.write(roles.resolve("collector.sh.sig"), Base64.getEncoder().encode(s.sign()));
        Files.writeString(work.resolve("root.pub"), root.publicKey().fileText());
        Files.writeString(work.resolve("owner.pem"), "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder()
                .encodeToString(pem.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n");
    }
}
