package dev.whatami.agent.install;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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

/** The AppCDS archive of the agent jar: a training run of a whole boot on loopback, then a static dump. */
final class CdsTraining {
    private CdsTraining() {
    }

    /**
     * A training run that loads what a boot loads — IMDSv2 over HttpClient, parse, fetch over http, verify a
     * signature, ledger, run a script, status — against throw-away services on 127.0.0.1 in this process (the
     * metadata-emulator module playing EC2, and the JDK's own HTTP server with the signed script), records the
     * classes it loads, and dumps them into a static AppCDS archive.
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
            byte[] script = "#!/bin/sh\ntrue\n".getBytes(StandardCharsets.UTF_8);
            Signature signer = Signature.getInstance("Ed25519");
            signer.initSign(key.getPrivate());
            signer.update(script);
            Path keys = Files.createDirectories(tmp.resolve("keys"));
            Files.writeString(keys.resolve("training.pub"), "-----BEGIN PUBLIC KEY-----\n"
                    + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(
                            key.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n");
            Map<String, byte[]> answers = Map.of(
                    "/scriptserver/train.sh", script,
                    "/scriptserver/train.sh.sig", bytes(Base64.getEncoder().encodeToString(signer.sign())));
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
            // Two runs on one state directory: a first boot, and a later one that reads the ledger and the staged
            // files the first left (the JSON parser, the stale-file sweep); the archive holds what either loads.
            Path classList = tmp.resolve("classes.lst");
            Path empty = Files.writeString(tmp.resolve("empty.properties"), "");
            Set<String> classes = new java.util.LinkedHashSet<>();
            for (int run = 1; run <= 2; run++) {
                Path list = tmp.resolve("classes-" + run + ".lst");
                List<String> args = new ArrayList<>(List.of("-XX:DumpLoadedClassList=" + list));
                args.addAll(List.of(InstallCommand.BOOT_PROPERTIES.split(" ")));
                args.addAll(List.of("-cp", jarPath, dev.whatami.agent.cli.WhatamiAgent.class.getName(), "run",
                        "--provider", "ec2", "--metadata-endpoint", imds.endpoint().toString(), "--state-dir",
                        tmp.resolve("state").toString(), "--log-dir", tmp.resolve("log").toString(), "--boot-id",
                        "cds-training", "--trusted-keys", keys.toString(), "--config", empty.toString()));
                String failed = java(javaPath, tmp.resolve("training-" + run + ".log"), list, "the training run",
                        args.toArray(String[]::new));
                if (failed != null) {
                    return failed;
                }
                classes.addAll(Files.readAllLines(list, StandardCharsets.UTF_8));
            }
            Files.write(classList, classes, StandardCharsets.UTF_8);
            String failed;
            // A static archive, not a dynamic one (-XX:ArchiveClassesAtExit): JDK 17 leaves classes older than Java 6
            // out of dynamic archives, and picocli's are Java 5 — ~40 ms more per boot. Dumped beside the target and
            // renamed, so a failed dump never leaves a half-written archive behind.
            Path partial = archive.resolveSibling(archive.getFileName() + ".part");
            failed = java(javaPath, tmp.resolve("dump.log"), partial, "dumping the archive", "-Xshare:dump",
                    "-XX:SharedClassListFile=" + classList, "-XX:SharedArchiveFile=" + partial, "-cp", jarPath);
            if (failed != null) {
                Files.deleteIfExists(partial);
                return failed;
            }
            Files.move(partial, archive, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
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
