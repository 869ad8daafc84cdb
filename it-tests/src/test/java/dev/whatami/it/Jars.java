package dev.whatami.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs the shipped jars as a user would: {@code java -jar ...}. */
final class Jars {
    static final Path AGENT = Path.of(System.getProperty("whatami.agent.jar", "../agent-app/target/whatami-agent.jar"));
    static final Path SERVER = Path.of(System.getProperty("whatami.server.jar",
            "../server-app/target/whatami-server.jar"));

    private Jars() {
    }

    record Result(int exitCode, String stdout, String stderr) {
    }

    private static List<String> java(Path jar, List<String> args) {
        return java(jar, List.of(), args);
    }

    private static List<String> java(Path jar, List<String> jvmFlags, List<String> args) {
        assertThat(jar).as("build the jars first (./mvnw -B verify builds them before this test)").exists();
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmFlags);
        cmd.add("-jar");
        cmd.add(jar.toString());
        cmd.addAll(args);
        return cmd;
    }

    /** Runs a jar to completion (at most two minutes) and captures its output. */
    static Result run(Path jar, String... args) throws Exception {
        return runWithJvmFlags(jar, List.of(), args);
    }

    static Result runWithJvmFlags(Path jar, List<String> jvmFlags, String... args) throws Exception {
        Process p = new ProcessBuilder(java(jar, jvmFlags, List.of(args))).redirectInput(ProcessBuilder.Redirect.from(
                new java.io.File("/dev/null"))).start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> slurp(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> slurp(p.getErrorStream()));
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("java -jar " + jar.getFileName() + " did not finish in 2 minutes");
        }
        return new Result(p.exitValue(), out.get(), err.get());
    }

    private static String slurp(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "<" + e + ">";
        }
    }

    /** A server process, started and ready (its startup line read), stopped on close. */
    static final class Server implements AutoCloseable {
        private final Process process;
        final String startupLine;

        Server(String... args) throws Exception {
            this(java.util.Map.of(), args);
        }

        /** With {@code env} added to the server's environment. */
        Server(java.util.Map<String, String> env, String... args) throws Exception {
            ProcessBuilder pb = new ProcessBuilder(java(SERVER, List.of(args))).redirectErrorStream(true);
            pb.environment().putAll(env);
            process = pb.start();
            BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8));
            CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
                try {
                    return reader.readLine();
                } catch (IOException e) {
                    return null;
                }
            });
            String first = line.get(60, TimeUnit.SECONDS);
            if (first == null || !first.startsWith("whatami-server listening on ")) {
                process.destroyForcibly();
                throw new AssertionError("server did not start: " + first);
            }
            startupLine = first;
            Thread drain = new Thread(() -> {
                try {
                    reader.transferTo(java.io.Writer.nullWriter());
                } catch (IOException e) {
                    // process ended
                }
            });
            drain.setDaemon(true);
            drain.start();
        }

        @Override
        public void close() throws Exception {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    static String read(Path p) throws IOException {
        return Files.readString(p);
    }
}
