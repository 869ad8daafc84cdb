import com.sun.net.httpserver.HttpServer;
import dev.whatami.fetch.FetchRequest;
import dev.whatami.fetch.ManifestTrust;
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

/**
 * What verifying a signed manifest costs one boot:
 * java -cp whatami-agent.jar bench/ManifestBench.java MODE WARM WORK
 * MODE is none (plain http, nothing vouches), sig (a per-script .sig with a trusted key), manifest (a first boot:
 * keys.json, manifest.json and their .minisig fetched and both signatures verified, the state file written) or again
 * (a later boot of the same instance: the state WORK/state/manifests.json that a manifest run left says these bytes
 * were verified, so only keys.json and manifest.json are fetched and parsed). In a fresh JVM, as at boot, it times the
 * first fetch of a 4 KiB script from a loopback server with a new fetcher, then the median of WARM more, each with a
 * new fetcher (a manifest run gives each a new state file). Prints "MODE first_ms warm_median_ms". The root and
 * signing keys are kept in WORK so that runs in other JVMs sign the same documents. The agent has loaded jackson-jr
 * for status.json before its first fetch; so does this, before timing.
 */
public class ManifestBench {
    public static void main(String[] args) throws Exception {
        String mode = args[0];
        int warm = Integer.parseInt(args[1]);
        Path work = Files.createDirectories(Path.of(args[2]));
        com.fasterxml.jackson.jr.ob.JSON.std.mapFrom("{\"status\": \"loaded\"}");
        byte[] script = new byte[4096];
        System.arraycopy("#!/bin/sh\necho hi\n".getBytes(StandardCharsets.UTF_8), 0, script, 0, 18);
        Map<String, byte[]> files = new HashMap<>();
        files.put("/roles/collector.sh", script);
        // keys are made before the clock starts: an image has its root key, the server its signing key
        MinisignSigner root = key(work.resolve("root.key"));
        MinisignSigner signer = key(work.resolve("signing.key"));
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
        files.put("/roles/keys.json", keys);
        files.put("/roles/keys.json.minisig", root.sign(keys, "keys").getBytes(StandardCharsets.UTF_8));
        files.put("/roles/manifest.json", manifest);
        files.put("/roles/manifest.json.minisig", signer.sign(manifest, "manifest").getBytes(StandardCharsets.UTF_8));
        Signature s = Signature.getInstance("Ed25519");
        s.initSign(pem.getPrivate());
        s.update(script);
        files.put("/roles/collector.sh.sig", Base64.getEncoder().encode(s.sign()));
        String pub = "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(pem.getPublic()
                .getEncoded()) + "\n-----END PUBLIC KEY-----\n";

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
            double first = once(mode, url, work, 0, root, pub);
            double[] t = new double[warm];
            for (int i = 0; i < warm; i++) {
                t[i] = once(mode, url, work, i + 1, root, pub);
            }
            java.util.Arrays.sort(t);
            System.out.printf(java.util.Locale.ROOT, "%s %.2f %.3f%n", mode, first, warm == 0 ? 0 : t[warm / 2]);
        } finally {
            server.stop(0);
        }
    }

    private static MinisignSigner key(Path file) throws Exception {
        if (!Files.exists(file)) {
            Files.writeString(file, MinisignSigner.generate().secretKeyFileText());
        }
        return MinisignSigner.parse(Files.readString(file), file.toString());
    }

    private static double once(String mode, URI url, Path work, int i, MinisignSigner root, String pub) {
        long start = System.nanoTime();
        ScriptFetcher.Builder b = ScriptFetcher.builder();
        if (mode.equals("manifest")) {
            b.manifestTrust(ManifestTrust.of(root.publicKey(), work.resolve(i == 0 ? "state/manifests.json"
                    : "warm-" + i + "/manifests.json")));
        } else if (mode.equals("again")) {
            b.manifestTrust(ManifestTrust.of(root.publicKey(), work.resolve("state/manifests.json")));
        } else if (mode.equals("sig")) {
            b.trustedKeys(TrustedKeys.of("owner.pub", pub));
        }
        try (ScriptFetcher f = b.build()) {
            f.fetch(FetchRequest.builder(url, work.resolve("task-" + mode + "-" + i), "collector.sh").build());
        }
        return (System.nanoTime() - start) / 1e6;
    }
}
