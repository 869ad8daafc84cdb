package dev.whatami.server;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The operator's side of signatures: make an Ed25519 key pair, sign scripts. OpenSSL-compatible files. */
final class SigningCommands {
    static final String KEY_FILE = "whatami-signing.key";
    static final String PUB_FILE = "whatami-signing.pub";

    private SigningCommands() {
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    /** {@code whatami-server keygen --out DIR}. */
    @Command(name = "keygen", mixinStandardHelpOptions = true, description = {"Make an Ed25519 key pair: "
            + KEY_FILE + " (PKCS#8 PEM, mode 0600; keep it off the instances) and " + PUB_FILE + " (PEM; copy it to "
            + "/etc/whatami/trusted-keys/ in the image)."})
    static final class Keygen implements Callable<Integer> {
        @Option(names = "--out", paramLabel = "DIR", required = true, description = "Where to write the two files.")
        Path out;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter err = spec.commandLine().getErr();
            Path key = out.resolve(KEY_FILE);
            Path pub = out.resolve(PUB_FILE);
            for (Path p : List.of(key, pub)) {
                if (Files.exists(p)) {
                    err.println("whatami-server keygen: " + p + " exists; not overwriting a key (move it away first)");
                    return 2;
                }
            }
            KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            Files.createDirectories(out);
            // the private key is created 0600 before a byte is written to it
            Files.createFile(key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(key, pem("PRIVATE KEY", pair.getPrivate().getEncoded()), StandardCharsets.US_ASCII,
                    StandardOpenOption.TRUNCATE_EXISTING);
            Files.writeString(pub, pem("PUBLIC KEY", pair.getPublic().getEncoded()), StandardCharsets.US_ASCII);
            spec.commandLine().getOut().println("wrote " + key + " (private, 0600) and " + pub + " (public: put it in "
                    + "/etc/whatami/trusted-keys/ on the instances)");
            return 0;
        }
    }

    /** {@code whatami-server sign --key KEY FILE...}. */
    @Command(name = "sign", mixinStandardHelpOptions = true, description = {"Write FILE.sig beside each FILE: the "
            + "base64 of an Ed25519 signature over its exact bytes (what openssl pkeyutl -sign -rawin makes)."})
    static final class Sign implements Callable<Integer> {
        @Option(names = "--key", paramLabel = "KEY", required = true, description = "The private key (PEM, PKCS#8), "
                + "from keygen or openssl genpkey -algorithm ed25519.")
        Path keyFile;

        @Parameters(paramLabel = "FILE", arity = "1..*", description = "Scripts to sign.")
        List<Path> files;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter err = spec.commandLine().getErr();
            PrivateKey key;
            try {
                key = load(keyFile);
            } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
                err.println("whatami-server sign: " + keyFile + " is not an Ed25519 private key in PEM (" + e.getMessage()
                        + "); make one with: whatami-server keygen --out DIR");
                return 2;
            }
            for (Path f : files) {
                if (!Files.isRegularFile(f)) {
                    err.println("whatami-server sign: " + f + " is not a file");
                    return 2;
                }
            }
            for (Path f : files) {
                Signature s = Signature.getInstance("Ed25519");
                s.initSign(key);
                s.update(Files.readAllBytes(f));
                Path sig = f.resolveSibling(f.getFileName() + ".sig");
                Path tmp = Files.createTempFile(sig.toAbsolutePath().getParent(), "." + sig.getFileName(), ".tmp");
                Files.writeString(tmp, Base64.getEncoder().encodeToString(s.sign()) + "\n", StandardCharsets.US_ASCII);
                Files.move(tmp, sig, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                spec.commandLine().getOut().println("signed " + f + " -> " + sig);
            }
            return 0;
        }

        static PrivateKey load(Path file) throws IOException, GeneralSecurityException {
            String pem = Files.readString(file, StandardCharsets.US_ASCII);
            if (!pem.contains("-----BEGIN PRIVATE KEY-----")) {
                throw new IllegalArgumentException("no -----BEGIN PRIVATE KEY----- block");
            }
            String body = pem.replaceAll("-----BEGIN PRIVATE KEY-----|-----END PRIVATE KEY-----|\\s", "");
            return KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder()
                    .decode(body)));
        }
    }

    /**
     * {@code whatami-server manifest keygen|pubkey|keys|sign}: the owner's side of signed manifests. Files are
     * minisign's (an unencrypted secret key as {@code minisign -G -W} writes it; signatures as {@code minisign -S}).
     */
    @Command(name = "manifest", mixinStandardHelpOptions = true, subcommands = {ManifestKeygen.class,
            ManifestPubkey.class, ManifestKeys.class, ManifestSign.class}, description = {"Signed manifests "
            + "(docs/manifest.md): a root key (its .pub baked into the image as --manifest-root-key) signs keys.json, "
            + "which lists the signing keys; a signing key signs manifest.json, the name -> sha256 of every script "
            + "in a directory. Run keygen twice (root, signing), then keys, then sign after every change."})
    static final class Manifest implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().usage(spec.commandLine().getErr());
            return 2;
        }
    }

    static final String MANIFEST = "manifest.json";
    static final String KEYS = "keys.json";
    static final String MINISIG = ".minisig";
    private static final com.fasterxml.jackson.jr.ob.JSON JSON = com.fasterxml.jackson.jr.ob.JSON.std
            .with(com.fasterxml.jackson.jr.ob.JSON.Feature.PRETTY_PRINT_OUTPUT);

    /** {@code manifest keygen --out DIR --name NAME}. */
    @Command(name = "keygen", mixinStandardHelpOptions = true, description = {"Make a minisign key pair: NAME.key "
            + "(unencrypted secret key, mode 0600: keep it off the instances, the root's offline) and NAME.pub."})
    static final class ManifestKeygen implements Callable<Integer> {
        @Option(names = "--out", paramLabel = "DIR", required = true, description = "Where to write the two files.")
        Path out;

        @Option(names = "--name", paramLabel = "NAME", defaultValue = "signing", description = "The files' name, "
                + "e.g. root or signing. Default: ${DEFAULT-VALUE}")
        String name;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Path key = out.resolve(name + ".key");
            Path pub = out.resolve(name + ".pub");
            for (Path p : List.of(key, pub)) {
                if (Files.exists(p)) {
                    spec.commandLine().getErr().println("whatami-server manifest keygen: " + p + " exists; not "
                            + "overwriting a key (move it away first)");
                    return 2;
                }
            }
            dev.whatami.fetch.MinisignSigner signer = dev.whatami.fetch.MinisignSigner.generate();
            Files.createDirectories(out);
            Files.createFile(key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(key, signer.secretKeyFileText(), StandardCharsets.US_ASCII,
                    StandardOpenOption.TRUNCATE_EXISTING);
            Files.writeString(pub, signer.publicKey().fileText(), StandardCharsets.US_ASCII);
            spec.commandLine().getOut().println("wrote " + key + " (secret, 0600) and " + pub + " (key id "
                    + signer.publicKey().id() + ")");
            return 0;
        }
    }

    /** {@code manifest pubkey --key KEY}. */
    @Command(name = "pubkey", mixinStandardHelpOptions = true, description = {"Print the minisign public key file "
            + "of a secret key."})
    static final class ManifestPubkey implements Callable<Integer> {
        @Option(names = "--key", paramLabel = "KEY", required = true, description = "A minisign secret key "
                + "(unencrypted).")
        Path key;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            dev.whatami.fetch.MinisignSigner signer = secret(key, spec, "pubkey");
            if (signer == null) {
                return 2;
            }
            spec.commandLine().getOut().print(signer.publicKey().fileText());
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    /** The secret key at {@code file}, or null after saying why not. */
    static dev.whatami.fetch.MinisignSigner secret(Path file, CommandLine.Model.CommandSpec spec, String command) {
        try {
            return dev.whatami.fetch.MinisignSigner.parse(Files.readString(file, StandardCharsets.US_ASCII),
                    file.toString());
        } catch (IOException e) {
            spec.commandLine().getErr().println("whatami-server manifest " + command + ": cannot read " + file + ": "
                    + e.getMessage());
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("whatami-server manifest " + command + ": " + e.getMessage());
        }
        return null;
    }

    /** {@code 30d}, {@code 12h}, {@code 90m} from now, or a UTC time; null when it is neither. */
    static java.time.Instant when(String text, java.time.Instant now) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,6})([dhm])").matcher(text);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return now.plus(switch (m.group(2)) {
                case "d" -> java.time.Duration.ofDays(n);
                case "h" -> java.time.Duration.ofHours(n);
                default -> java.time.Duration.ofMinutes(n);
            }).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        }
        try {
            return java.time.Instant.parse(text);
        } catch (java.time.format.DateTimeParseException e) {
            return null;
        }
    }

    /** The version of the document at {@code file} (0 when there is none), for the next one to be higher. */
    static long previousVersion(Path file) throws IOException {
        if (!Files.exists(file)) {
            return 0;
        }
        Object v = JSON.mapFrom(Files.readAllBytes(file)).get("version");
        return v instanceof Number n ? n.longValue() : 0;
    }

    /** Writes the document and its signature, each atomically, the signature last. */
    static void writeSigned(Path file, byte[] json, dev.whatami.fetch.MinisignSigner signer, String comment)
            throws IOException {
        byte[] sig = signer.sign(json, comment).getBytes(StandardCharsets.UTF_8);
        atomically(file, json);
        atomically(file.resolveSibling(file.getFileName() + MINISIG), sig);
    }

    private static void atomically(Path target, byte[] content) throws IOException {
        Path tmp = Files.createTempFile(target.toAbsolutePath().getParent(), "." + target.getFileName(), ".tmp");
        try {
            Files.write(tmp, content);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The version to write: the one asked for, or the previous + 1; null after saying why it cannot be. */
    static Long nextVersion(Long asked, Path file, CommandLine.Model.CommandSpec spec, String command)
            throws IOException {
        long previous = previousVersion(file);
        long version = asked != null ? asked : previous + 1;
        if (version <= previous || version < 1) {
            spec.commandLine().getErr().println("whatami-server manifest " + command + ": --version " + version
                    + " is not above the version of " + file + " (" + previous + "); instances that accepted that one "
                    + "would refuse it as a rollback");
            return null;
        }
        return version;
    }

    /** {@code manifest keys --root-key ROOT --signing-key PUB... [--revoke ID...] --out DIR}. */
    @Command(name = "keys", description = {"Write DIR/keys.json and its .minisig, "
            + "signed by the root key: the signing keys that may sign manifests, and the revoked key ids. To rotate: "
            + "list the new key (and the old one until its manifests are replaced), then drop and --revoke the old."})
    static final class ManifestKeys implements Callable<Integer> {
        /** Help only: their own --version (of the document) takes the place of the standard one. */
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
        boolean help;

        @Option(names = "--root-key", paramLabel = "ROOT", required = true, description = "The root's minisign "
                + "secret key (unencrypted).")
        Path rootKey;

        @Option(names = "--signing-key", paramLabel = "PUB", required = true, arity = "1..*", description = "Public "
                + "keys (minisign .pub) that may sign manifests.")
        List<Path> signingKeys;

        @Option(names = "--revoke", paramLabel = "KEYID", description = "Key ids (as minisign prints them) whose "
                + "manifests are refused from now on.")
        List<String> revoked = new java.util.ArrayList<>();

        @Option(names = "--out", paramLabel = "DIR", required = true, description = "The directory the scripts are "
                + "served from.")
        Path out;

        @Option(names = "--version", paramLabel = "N", description = "Default: the previous keys.json's + 1, or 1.")
        Long version;

        @Option(names = "--expires", paramLabel = "WHEN", defaultValue = "365d", description = "30d, 12h or a UTC "
                + "time like 2027-12-31T00:00:00Z. After it, instances refuse the keys (sign a new one first). "
                + "Default: ${DEFAULT-VALUE}")
        String expires;

        @Option(names = "--key-expires", paramLabel = "WHEN", description = "Until when the signing keys may sign. "
                + "Default: --expires.")
        String keyExpires;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter err = spec.commandLine().getErr();
            dev.whatami.fetch.MinisignSigner root = secret(rootKey, spec, "keys");
            if (root == null) {
                return 2;
            }
            java.time.Instant now = java.time.Instant.now();
            java.time.Instant until = when(expires, now);
            java.time.Instant keysUntil = keyExpires == null ? until : when(keyExpires, now);
            if (until == null || keysUntil == null) {
                err.println("whatami-server manifest keys: --expires and --key-expires take 30d, 12h, 90m or a UTC "
                        + "time like 2027-12-31T00:00:00Z");
                return 2;
            }
            List<Object> keys = new java.util.ArrayList<>();
            for (Path p : signingKeys) {
                dev.whatami.fetch.MinisignKey k;
                try {
                    k = dev.whatami.fetch.MinisignKey.parse(Files.readString(p, StandardCharsets.US_ASCII),
                            p.toString());
                } catch (IllegalArgumentException | IOException e) {
                    err.println("whatami-server manifest keys: " + e.getMessage());
                    return 2;
                }
                if (revoked.contains(k.id())) {
                    err.println("whatami-server manifest keys: " + p + " (key " + k.id() + ") is both listed and "
                            + "revoked; drop one");
                    return 2;
                }
                java.util.Map<String, Object> entry = new java.util.LinkedHashMap<>();
                entry.put("key", k.base64());
                entry.put("expires", keysUntil.toString());
                keys.add(entry);
            }
            for (String id : revoked) {
                if (!id.matches("[0-9A-F]{16}")) {
                    err.println("whatami-server manifest keys: --revoke takes a key id of 16 upper-case hex digits as "
                            + "minisign prints it, not " + id);
                    return 2;
                }
            }
            Path file = out.resolve(KEYS);
            Long v = nextVersion(version, file, spec, "keys");
            if (v == null) {
                return 2;
            }
            java.util.Map<String, Object> doc = new java.util.LinkedHashMap<>();
            doc.put("type", "whatami-keys/1");
            doc.put("version", v);
            doc.put("expires", until.toString());
            doc.put("keys", keys);
            doc.put("revoked", revoked);
            Files.createDirectories(out);
            writeSigned(file, JSON.asBytes(doc), root, "whatami keys version " + v);
            spec.commandLine().getOut().println("wrote " + file + " and " + file + MINISIG + " (version " + v + ", "
                    + keys.size() + " signing key(s), " + revoked.size() + " revoked, expires " + until + ")");
            return 0;
        }
    }

    /** {@code manifest sign --key KEY --dir DIR --name NAME}. */
    @Command(name = "sign", description = {"Write DIR/manifest.json and its "
            + ".minisig: the sha256 of every file in DIR (not hidden ones, *.sig, *.minisig, manifest.json or "
            + "keys.json), with a version one above the last and an expiry."})
    static final class ManifestSign implements Callable<Integer> {
        /** Help only: their own --version (of the document) takes the place of the standard one. */
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
        boolean help;

        @Option(names = "--key", paramLabel = "KEY", required = true, description = "A signing key listed in "
                + "DIR/keys.json (minisign secret key, unencrypted).")
        Path key;

        @Option(names = "--dir", paramLabel = "DIR", required = true, description = "The directory the scripts are "
                + "served from.")
        Path dir;

        @Option(names = "--name", paramLabel = "NAME", description = "The set's name: versions count per name. "
                + "Default: the previous manifest's, else the directory's name.")
        String name;

        @Option(names = "--version", paramLabel = "N", description = "Default: the previous manifest's + 1, or 1.")
        Long version;

        @Option(names = "--expires", paramLabel = "WHEN", defaultValue = "30d", description = "30d, 12h or a UTC "
                + "time. After it, instances refuse the manifest (a file server frozen at an old one): sign again "
                + "before then. Default: ${DEFAULT-VALUE}")
        String expires;

        @Option(names = "--origin", paramLabel = "URL", description = "A directory URL the manifest may be fetched "
                + "from (repeat for mirrors); when given, instances refuse it anywhere else. Default: anywhere.")
        List<String> origins = new java.util.ArrayList<>();

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter err = spec.commandLine().getErr();
            dev.whatami.fetch.MinisignSigner signer = secret(key, spec, "sign");
            if (signer == null) {
                return 2;
            }
            if (!Files.isDirectory(dir)) {
                err.println("whatami-server manifest sign: " + dir + " is not a directory");
                return 2;
            }
            java.time.Instant until = when(expires, java.time.Instant.now());
            if (until == null) {
                err.println("whatami-server manifest sign: --expires takes 30d, 12h, 90m or a UTC time like "
                        + "2027-12-31T00:00:00Z");
                return 2;
            }
            for (String o : origins) {
                if (!o.contains("://") || !o.endsWith("/")) {
                    err.println("whatami-server manifest sign: --origin takes a directory URL ending in /, like "
                            + "http://files.example:8080/scriptserver/, not " + o);
                    return 2;
                }
            }
            Path file = dir.resolve(MANIFEST);
            Long v = nextVersion(version, file, spec, "sign");
            if (v == null) {
                return 2;
            }
            String set = name != null ? name : previousName(file).orElse(dir.toAbsolutePath().normalize()
                    .getFileName().toString());
            java.util.Map<String, Object> files = new java.util.TreeMap<>();
            try (java.util.stream.Stream<Path> list = Files.list(dir)) {
                for (Path p : list.sorted().toList()) {
                    String n = p.getFileName().toString();
                    if (!Files.isRegularFile(p) || n.startsWith(".") || n.endsWith(".sig") || n.endsWith(MINISIG)
                            || n.equals(MANIFEST) || n.equals(KEYS)) {
                        continue;
                    }
                    java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
                    try (java.io.InputStream in = Files.newInputStream(p)) {
                        in.transferTo(new java.security.DigestOutputStream(java.io.OutputStream.nullOutputStream(),
                                sha));
                    }
                    files.put(n, java.util.Map.of("sha256", java.util.HexFormat.of().formatHex(sha.digest())));
                }
            }
            java.util.Map<String, Object> doc = new java.util.LinkedHashMap<>();
            doc.put("type", "whatami-manifest/1");
            doc.put("name", set);
            doc.put("version", v);
            doc.put("expires", until.toString());
            if (!origins.isEmpty()) {
                doc.put("origins", origins);
            }
            doc.put("files", files);
            writeSigned(file, JSON.asBytes(doc), signer, "whatami manifest " + set + " version " + v);
            spec.commandLine().getOut().println("wrote " + file + " and " + file + MINISIG + " (\"" + set
                    + "\", version " + v + ", " + files.size() + " file(s), expires " + until + ", signed by key "
                    + signer.publicKey().id() + ")");
            if (!Files.exists(dir.resolve(KEYS))) {
                err.println("whatami-server manifest sign: note: " + dir.resolve(KEYS) + " does not exist yet; "
                        + "instances need it too (whatami-server manifest keys)");
            }
            return 0;
        }

        private static java.util.Optional<String> previousName(Path file) throws IOException {
            if (!Files.exists(file)) {
                return java.util.Optional.empty();
            }
            Object n = JSON.mapFrom(Files.readAllBytes(file)).get("name");
            return n instanceof String s ? java.util.Optional.of(s) : java.util.Optional.empty();
        }
    }
}
