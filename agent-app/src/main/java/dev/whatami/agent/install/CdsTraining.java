package dev.whatami.agent.install;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The class cache of the agent jar: training runs of a whole boot on loopback, then a static AppCDS dump (JDK 17-24)
 * or an AOT cache (JDK 25 and later).
 */
final class CdsTraining {
    /** A class list's number of a class, after its name. */
    private static final java.util.regex.Pattern NUMBERED = java.util.regex.Pattern.compile(
            "^([^@#\\s]+) id: \\d+$");

    private CdsTraining() {
    }

    /**
     * A training run that loads what a boot loads — IMDSv2 over HttpClient, parse, fetch over http, verify a
     * signature and a signed manifest, ledger, run a script, status — against throw-away services on 127.0.0.1 in
     * this process (the metadata-emulator module playing EC2, and the JDK's own HTTP server with the signed script,
     * its manifest and keys document), records the classes it loads, and makes them into the cache {@code archive}
     * names: an AOT cache when it ends in {@code .aot} (the launcher names it so on JDK 25 and later), else a static
     * AppCDS archive.
     *
     * @return null on success, else why not
     */
    static String train(String javaPath, String jarPath, Path archive) throws IOException {
        Path tmp = Files.createTempDirectory("whatami-cds");
        com.sun.net.httpserver.HttpServer files = com.sun.net.httpserver.HttpServer.create(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        dev.whatami.emulator.MetadataEmulator imds = null;
        try {
            String base = "127.0.0.1:" + files.getAddress().getPort();
            // The training script is signed with a key of its own, trusted only by the training run: the boot path
            // with signatures lands in the archive too, and the keys this machine trusts play no part.
            KeyPair key = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            // one line of output, as most scripts have: the path that logs, tails and echoes it lands in the cache too
            byte[] script = "#!/bin/sh\necho trained\n".getBytes(StandardCharsets.UTF_8);
            Signature signer = Signature.getInstance("Ed25519");
            signer.initSign(key.getPrivate());
            signer.update(script);
            Path keys = Files.createDirectories(tmp.resolve("keys"));
            Files.writeString(keys.resolve("training.pub"), "-----BEGIN PUBLIC KEY-----\n"
                    + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(
                            key.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n");
            Map<String, byte[]> answers = new java.util.HashMap<>(Map.of(
                    "/scriptserver/train.sh", script,
                    "/scriptserver/train.sh.sig", bytes(Base64.getEncoder().encodeToString(signer.sign()))));
            manifest(answers, "/scriptserver/", "train.sh", script, tmp.resolve("manifest-root.pub"));
            files.createContext("/", ex -> {
                byte[] b = answers.getOrDefault(ex.getRequestURI().getPath(), new byte[0]);
                ex.sendResponseHeaders(b.length == 0 ? 404 : 200, b.length == 0 ? -1 : b.length);
                if (b.length > 0) {
                    ex.getResponseBody().write(b);
                }
                ex.close();
            });
            files.start();
            imds = dev.whatami.emulator.MetadataEmulator.builder().instanceId("i-cds-training")
                    .userData("train.sh " + base + " frequency=always\n").imdsV2Required(true).start();
            Files.createDirectories(archive.toAbsolutePath().getParent());
            // Written beside the target and renamed, so a failed dump never leaves a half-written archive behind.
            Path partial = archive.resolveSibling(archive.getFileName() + ".part");
            String failed = isAotCache(archive) ? aotCache(javaPath, jarPath, tmp, imds, keys, partial)
                    : appCds(javaPath, jarPath, tmp, imds, keys, partial);
            if (failed != null) {
                Files.deleteIfExists(partial);
                return failed;
            }
            // on the disk before it has its name: JDK 17 dies of a truncated archive (SIGBUS), a crash must not
            // leave one behind under the name the launcher passes
            try (FileChannel ch = FileChannel.open(partial, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(partial, archive, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            try (FileChannel dirChannel = FileChannel.open(archive.toAbsolutePath().getParent(),
                    StandardOpenOption.READ)) {
                dirChannel.force(true);
            } catch (IOException e) {
                // a file system that cannot sync a directory: the rename lands with its next commit
            }
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } catch (GeneralSecurityException e) {
            return "this JVM cannot sign the training script with Ed25519: " + e.getMessage();
        } finally {
            files.stop(0);
            if (imds != null) {
                imds.close();
            }
            org.apache.commons.io.file.PathUtils.deleteDirectory(tmp);
        }
    }

    /**
     * A signed manifest for the directory {@code dir}, listing {@code name}: {@code keys.json} signed by a throw-away
     * root key (its {@code .pub} written to {@code rootPub}, the training boot's {@code --manifest-root-key}),
     * {@code manifest.json} signed by a throw-away signing key, and their {@code .minisig} files, as
     * {@code whatami-server manifest keys} and {@code sign} write them. A boot with a root key verifies both (two
     * Ed25519 verifications, the JSON documents, the state file): those classes land in the cache as well, and the
     * root key this machine may have in /etc/whatami plays no part.
     */
    private static void manifest(Map<String, byte[]> answers, String dir, String name, byte[] script,
            Path rootPub) throws IOException {
        dev.whatami.fetch.MinisignSigner root = dev.whatami.fetch.MinisignSigner.generate();
        dev.whatami.fetch.MinisignSigner signing = dev.whatami.fetch.MinisignSigner.generate();
        Files.writeString(rootPub, root.publicKey().fileText());
        String expires = java.time.Instant.now().plus(java.time.Duration.ofDays(1))
                .truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
        byte[] keysJson = bytes("{\"type\":\"whatami-keys/1\",\"version\":1,\"expires\":\"" + expires
                + "\",\"keys\":[{\"key\":\""
                + signing.publicKey().base64() + "\",\"expires\":\"" + expires + "\"}],\"revoked\":[]}\n");
        byte[] manifestJson = bytes("{\"type\":\"whatami-manifest/1\",\"name\":\"cds-training\",\"version\":1,"
                + "\"expires\":\"" + expires + "\",\"files\":{\""
                + name + "\":{\"sha256\":\"" + sha256(script) + "\"}}}\n");
        answers.put(dir + "keys.json", keysJson);
        answers.put(dir + "keys.json.minisig", bytes(root.sign(keysJson, "whatami keys version 1")));
        answers.put(dir + "manifest.json", manifestJson);
        answers.put(dir + "manifest.json.minisig", bytes(signing.sign(manifestJson,
                "whatami manifest cds-training version 1")));
    }

    /** Whether {@code archive} names an AOT cache (JDK 25 and later: {@code .aot}) rather than an AppCDS archive. */
    static boolean isAotCache(Path archive) {
        return archive.getFileName().toString().endsWith(".aot");
    }

    /** The agent's command line for a training boot against {@code imds}, on the state directory in {@code tmp}. */
    private static List<String> boot(String jarPath, Path tmp, dev.whatami.emulator.MetadataEmulator imds, Path keys)
            throws IOException {
        Path empty = tmp.resolve("empty.properties");
        if (!Files.exists(empty)) {
            Files.writeString(empty, "");
        }
        List<String> args = new ArrayList<>(List.of(InstallCommand.BOOT_PROPERTIES.split(" ")));
        args.addAll(List.of("-cp", jarPath, dev.whatami.agent.cli.WhatamiAgent.class.getName(), "run",
                "--provider", "ec2", "--metadata-endpoint", imds.endpoint().toString(), "--state-dir",
                tmp.resolve("state").toString(), "--log-dir", tmp.resolve("log").toString(), "--boot-id",
                "cds-training", "--trusted-keys", keys.toString(), "--manifest-root-key",
                tmp.resolve("manifest-root.pub").toString(), "--config", empty.toString()));
        return args;
    }

    /**
     * A static AppCDS archive at {@code partial}: two boots on one state directory — a first boot, and a later one
     * that reads the ledger and the staged files the first left (the JSON parser, the stale-file sweep) — each
     * listing the classes it loads, then a dump of what either loaded.
     */
    private static String appCds(String javaPath, String jarPath, Path tmp,
            dev.whatami.emulator.MetadataEmulator imds, Path keys, Path partial)
            throws IOException, InterruptedException {
        Set<String> classes = new java.util.LinkedHashSet<>();
        for (int run = 1; run <= 2; run++) {
            Path list = tmp.resolve("classes-" + run + ".lst");
            List<String> args = new ArrayList<>(List.of("-XX:DumpLoadedClassList=" + list));
            args.addAll(boot(jarPath, tmp, imds, keys));
            String failed = java(javaPath, tmp.resolve("training-" + run + ".log"), list, "the training run",
                    args.toArray(String[]::new));
            if (failed != null) {
                return failed;
            }
            for (String line : Files.readAllLines(list, StandardCharsets.UTF_8)) {
                // JDK 21 and later number the classes of a list ("java/lang/Object id: 0"), each run its own way:
                // the union names each class once, unnumbered. Only classes of other loaders (with "source:")
                // refer to numbers; the agent has none, and such a line would point at another run's class.
                if (!line.contains(" source: ")) {
                    classes.add(NUMBERED.matcher(line).replaceFirst("$1"));
                }
            }
        }
        Path classList = Files.write(tmp.resolve("classes.lst"), classes, StandardCharsets.UTF_8);
        // A static archive, not a dynamic one (-XX:ArchiveClassesAtExit): JDK 17 leaves classes older than Java 6
        // out of dynamic archives, and picocli's are Java 5 — ~40 ms more per boot.
        return java(javaPath, tmp.resolve("dump.log"), partial, "dumping the archive", "-Xshare:dump",
                "-XX:SharedClassListFile=" + classList, "-XX:SharedArchiveFile=" + partial, "-cp", jarPath);
    }

    /**
     * An AOT cache at {@code partial} (JDK 25's one-step form: the training run records, and at its exit a child JVM
     * assembles the cache): a first boot makes the state, the later boot that reads it is the training run. That
     * boot runs the task again (frequency=always), so it loads what a first boot loads too, and more. It forgets
     * the manifest versions the first boot recorded, so that it verifies the manifest's signatures again, as the
     * first boot with a root key does. A cache holds one run, unlike a class list; the configuration file stays in
     * {@code tmp}.
     */
    private static String aotCache(String javaPath, String jarPath, Path tmp,
            dev.whatami.emulator.MetadataEmulator imds, Path keys, Path partial)
            throws IOException, InterruptedException {
        String failed = java(javaPath, tmp.resolve("training-1.log"), tmp, "the first training run",
                boot(jarPath, tmp, imds, keys).toArray(String[]::new));
        if (failed != null) {
            return failed;
        }
        Files.deleteIfExists(tmp.resolve("state").resolve("manifests.json"));
        List<String> args = new ArrayList<>(List.of("-XX:AOTCacheOutput=" + partial,
                "-XX:AOTConfiguration=" + tmp.resolve("training.aotconf")));
        args.addAll(boot(jarPath, tmp, imds, keys));
        return java(javaPath, tmp.resolve("training-2.log"), partial, "the training run", args.toArray(String[]::new));
    }

    private static String sha256(byte[] b) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Runs {@code java} with the launcher's flags and {@code args}, output to {@code log}, for at most two minutes.
     *
     * @return null when it exited 0 and made {@code product}, else what went wrong ({@code what} names the step)
     */
    private static String java(String javaPath, Path log, Path product, String what, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(javaPath));
        cmd.addAll(List.of(InstallCommand.JVM_FLAGS.split(" ")));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            return what + " did not finish in 2 minutes";
        }
        if (p.exitValue() != 0 || !Files.exists(product)) {
            return what + " exited " + p.exitValue() + ": "
                    + Files.readString(log, StandardCharsets.UTF_8).lines().reduce((a, b) -> b).orElse("");
        }
        return null;
    }
}
