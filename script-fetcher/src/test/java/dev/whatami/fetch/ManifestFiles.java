package dev.whatami.fetch;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Keys documents and manifests made in a test, signed with {@link MinisignSigner}, served by a {@link FileServer}. */
final class ManifestFiles {
    static final Instant LATER = Instant.parse("2027-06-01T00:00:00Z");

    private ManifestFiles() {
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** A keys document. */
    static final class Keys {
        long version = 1;
        Instant expires = LATER;
        final List<String> keys = new ArrayList<>();
        final List<String> revoked = new ArrayList<>();

        Keys version(long v) {
            version = v;
            return this;
        }

        Keys expires(Instant t) {
            expires = t;
            return this;
        }

        Keys key(MinisignSigner k) {
            return key(k, null, LATER);
        }

        Keys key(MinisignSigner k, Instant notBefore, Instant until) {
            keys.add("{\"key\": \"" + k.publicKey().base64() + "\"" + (notBefore == null ? "" : ", \"notBefore\": \""
                    + notBefore + "\"") + ", \"expires\": \"" + until + "\"}");
            return this;
        }

        Keys revoke(MinisignSigner k) {
            revoked.add("\"" + k.publicKey().id() + "\"");
            return this;
        }

        byte[] json() {
            return ("{\"type\": \"whatami-keys/1\", \"version\": " + version + ", \"expires\": \"" + expires
                    + "\",\n \"keys\": [" + String.join(", ", keys) + "],\n \"revoked\": [" + String.join(", ", revoked)
                    + "]}\n").getBytes(UTF_8);
        }
    }

    /** A manifest. */
    static final class Manifest {
        String name = "roles";
        long version = 1;
        Instant expires = LATER;
        final Map<String, String> files = new LinkedHashMap<>();
        final List<String> origins = new ArrayList<>();

        Manifest version(long v) {
            version = v;
            return this;
        }

        Manifest expires(Instant t) {
            expires = t;
            return this;
        }

        Manifest file(String name, byte[] content) throws Exception {
            files.put(name, sha256(content));
            return this;
        }

        Manifest origin(String o) {
            origins.add(o);
            return this;
        }

        byte[] json() {
            String f = files.entrySet().stream().map(e -> "\"" + e.getKey() + "\": {\"sha256\": \"" + e.getValue()
                    + "\"}").collect(Collectors.joining(",\n  "));
            return ("{\"type\": \"whatami-manifest/1\", \"name\": \"" + name + "\", \"version\": " + version
                    + ", \"expires\": \"" + expires + "\",\n" + (origins.isEmpty() ? "" : " \"origins\": [\""
                    + String.join("\", \"", origins) + "\"],\n") + " \"files\": {\n  " + f + "}}\n").getBytes(UTF_8);
        }
    }

    static byte[] sig(MinisignSigner signer, byte[] data) {
        return signer.sign(data, "whatami test").getBytes(UTF_8);
    }

    /** Serves the four files in {@code dir} (e.g. "/roles/"). */
    static void serve(FileServer server, String dir, MinisignSigner root, Keys keys, MinisignSigner signer,
                      Manifest manifest) {
        byte[] k = keys.json();
        byte[] m = manifest.json();
        server.file(dir + "keys.json", k).file(dir + "keys.json.minisig", sig(root, k))
                .file(dir + "manifest.json", m).file(dir + "manifest.json.minisig", sig(signer, m));
    }
}
