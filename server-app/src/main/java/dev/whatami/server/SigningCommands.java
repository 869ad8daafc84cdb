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
}
