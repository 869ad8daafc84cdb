package dev.whatami.fetch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.whatami.status.OwnedPaths;
import dev.whatami.fetch.internal.Ed25519;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Ed25519 public keys whose signatures are trusted, read from PEM files (SubjectPublicKeyInfo, as
 * {@code openssl pkey -pubout} writes them). The maths is {@code Ed25519}'s, as for manifests (a cold JVM's first
 * verification by the JDK's costs ~40 ms; its Javadoc says why). Immutable, thread-safe.
 */
public final class TrustedKeys {
    /** An Ed25519 SubjectPublicKeyInfo up to the key: SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (33) }. */
    private static final byte[] SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

    private final Map<String, byte[]> keys;

    private TrustedKeys(Map<String, byte[]> keys) {
        this.keys = Collections.unmodifiableSortedMap(new TreeMap<>(keys));
    }

    /** No keys: signatures are not checked. */
    public static TrustedKeys none() {
        return new TrustedKeys(Map.of());
    }

    /**
     * Every {@code *.pub} file in {@code dir}.
     *
     * @throws FetchException with {@link FetchFailure#CONFIGURATION} when the directory cannot be read, holds no
     *                        {@code *.pub} file, or a file is not an Ed25519 public key in PEM, naming the file; also when
     *                        someone other than root or this process's user could change the directory, a key or a
     *                        directory above them ({@link OwnedPaths})
     */
    public static TrustedKeys fromDirectory(Path dir) {
        Map<String, byte[]> keys = new TreeMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.pub")) {
            refuseIfOthersCanChange(dir.toRealPath(), "the trusted-keys directory");
            for (Path f : files) {
                refuseIfOthersCanChange(f, "the trusted key");
                keys.put(f.getFileName().toString(), parsePem(Files.readString(f, StandardCharsets.US_ASCII),
                        f.toString()));
            }
        } catch (IOException e) {
            throw new FetchException(FetchFailure.CONFIGURATION, "cannot read trusted keys from " + dir + ": " + e
                    .getMessage() + "; give TrustedKeys.fromDirectory(...) a readable directory of *.pub files", null, 0,
                    e);
        }
        if (keys.isEmpty()) {
            throw new FetchException(FetchFailure.CONFIGURATION, "the trusted-keys directory " + dir + " holds no *.pub file; put Ed25519 public "
                    + "keys there (openssl pkey -in key.pem -pubout -out " + dir + "/owner.pub)", null, 0, null);
        }
        return new TrustedKeys(keys);
    }

    /**
     * A key that someone other than root (or the agent's user) can replace, or put beside the others, would let
     * that someone's scripts run as the agent: refused, saying how to mend it.
     */
    private static void refuseIfOthersCanChange(Path p, String what) throws IOException {
        Optional<String> problem = OwnedPaths.problem(p, what);
        if (problem.isPresent()) {
            throw new FetchException(FetchFailure.CONFIGURATION, problem.get() + "; no key there is trusted until "
                    + "then", null, 0, null);
        }
    }

    /** One PEM key, e.g. for tests; {@code name} is used in messages. */
    public static TrustedKeys of(String name, String pem) {
        return new TrustedKeys(Map.of(name, parsePem(pem, name)));
    }

    static byte[] parsePem(String pem, String where) {
        String body = pem.replaceAll("-----BEGIN PUBLIC KEY-----|-----END PUBLIC KEY-----|\\s", "");
        if (!pem.contains("-----BEGIN PUBLIC KEY-----") || body.isEmpty()) {
            throw new FetchException(FetchFailure.CONFIGURATION, where + " is not a PEM public key (-----BEGIN PUBLIC KEY-----); make one with: "
                    + "openssl pkey -in private.pem -pubout", null, 0, null);
        }
        byte[] der;
        try {
            der = Base64.getDecoder().decode(body);
        } catch (IllegalArgumentException e) {
            throw notEd25519(where, "its body is not base64");
        }
        if (der.length != SPKI_PREFIX.length + 32 || !Arrays.equals(der, 0, SPKI_PREFIX.length, SPKI_PREFIX, 0,
                SPKI_PREFIX.length)) {
            throw notEd25519(where, "it is another kind of key, or not a key: an Ed25519 one is 44 bytes of DER with "
                    + "the algorithm 1.3.101.112");
        }
        byte[] raw = Arrays.copyOfRange(der, SPKI_PREFIX.length, der.length);
        if (!Ed25519.isPublicKey(raw)) {
            throw notEd25519(where, "its 32 bytes are no point of the curve, or one of small order");
        }
        return raw;
    }

    private static FetchException notEd25519(String where, String why) {
        return new FetchException(FetchFailure.CONFIGURATION, where + " is not an Ed25519 public key (" + why + "); "
                + "whatami trusts Ed25519 keys only (openssl genpkey -algorithm ed25519)", null, 0, null);
    }

    public boolean isEmpty() {
        return keys.isEmpty();
    }

    /** Names of the key files, for messages. */
    public List<String> names() {
        return new ArrayList<>(keys.keySet());
    }

    /**
     * Decodes a {@code .sig} file: base64 text of a 64-byte Ed25519 signature, or the raw 64 bytes.
     *
     * @return empty when it is neither
     */
    public static Optional<byte[]> decodeSignature(byte[] sig) {
        if (sig.length == 64) {
            try {
                byte[] decoded = Base64.getMimeDecoder().decode(sig);
                if (decoded.length == 64) {
                    return Optional.of(decoded); // 64 base64 characters can hardly happen, but be exact
                }
            } catch (IllegalArgumentException e) {
                // not base64: raw bytes
            }
            return Optional.of(sig.clone());
        }
        try {
            byte[] decoded = Base64.getMimeDecoder().decode(new String(sig, StandardCharsets.US_ASCII).strip());
            return decoded.length == 64 ? Optional.of(decoded) : Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * The name of the first key (in name order) whose signature of all of {@code message}'s bytes {@code signature}
     * is. The stream is read once, whatever the number of keys, and nothing of it is kept.
     *
     * @throws IOException when reading {@code message} fails
     */
    public Optional<String> signer(byte[] signature, InputStream message) throws IOException {
        Objects.requireNonNull(signature, "signature");
        List<String> names = new ArrayList<>(keys.keySet());
        List<Ed25519.Check> checks = new ArrayList<>();
        for (String name : names) {
            checks.add(Ed25519.check(keys.get(name), signature));
        }
        byte[] buffer = new byte[64 * 1024];
        int n;
        while ((n = message.read(buffer)) != -1) {
            for (Ed25519.Check c : checks) {
                c.update(buffer, 0, n);
            }
        }
        for (int i = 0; i < checks.size(); i++) {
            if (checks.get(i).verify()) {
                return Optional.of(names.get(i));
            }
        }
        return Optional.empty();
    }

    /**
     * Verifiers, one per key, to feed the bytes to as they arrive; each keeps them in memory until its
     * {@link Verifier#verify}. For a file, {@link #signer} keeps nothing.
     */
    public List<Verifier> verifiers() {
        List<Verifier> out = new ArrayList<>();
        keys.forEach((name, key) -> out.add(new Verifier(name, key)));
        return out;
    }

    /**
     * One key's running verification. Ed25519 hashes the signature's {@code R} before the message, so the bytes are
     * kept until {@link #verify} (as the JDK's Ed25519 keeps them too), and read from where they are kept: no copy.
     */
    public static final class Verifier {
        private final String name;
        private final byte[] key;
        private final Kept message = new Kept();

        Verifier(String name, byte[] key) {
            this.name = name;
            this.key = key;
        }

        public String name() {
            return name;
        }

        public void update(byte[] b, int off, int len) {
            message.write(b, off, len);
        }

        /** Whether {@code sig} (64 bytes) is this key's signature of the bytes given so far. */
        public boolean verify(byte[] sig) {
            return message.verify(key, sig);
        }
    }

    /** The bytes given so far, verified where they lie. */
    private static final class Kept extends ByteArrayOutputStream {
        synchronized boolean verify(byte[] key, byte[] sig) {
            return Ed25519.verify(key, buf, 0, count, sig);
        }
    }

}
