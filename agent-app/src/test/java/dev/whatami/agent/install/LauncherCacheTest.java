package dev.whatami.agent.install;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher with real JVMs, on this machine and on loopback only: {@code whatami-agent cds} builds an AppCDS
 * archive on JDK 17 and an AOT cache on JDK 25 (a training boot against the metadata emulator), the next start maps
 * it, and a damaged cache is skipped without a word on the agent's output. The JDKs are looked for under
 * /usr/lib/jvm (and this test's own JVM); a missing one skips its test, saying so, unless
 * {@code WHATAMI_REQUIRE_JDK17=1} / {@code WHATAMI_REQUIRE_JDK25=1} (as CI sets) make that a failure.
 */
class LauncherCacheTest {
    private static final Path JVMS = Path.of("/usr/lib/jvm");
    private static final String MAIN = "dev.whatami.agent.cli.WhatamiAgent";

    @TempDir
    static Path shared;
    private static Path jar;

    @TempDir
    Path dir;

    /**
     * The agent as one jar (CDS and AOT caches take classes from jars only): this module's classes and the reactor
     * modules' (directories, their jars under the project, or, built alone, their jars in the local repository), the
     * libraries from the local repository on its class path.
     */
    /**
     * A module of this project taken from the local repository (a build of this module alone, {@code -pl agent-app}):
     * merged like the reactor's, since the caches keep only classes of the jar itself, not of its Class-Path.
     */
    private static boolean isProjectModuleInLocalRepository(Path jar) {
        String path = jar.toAbsolutePath().toString().replace(File.separatorChar, '/');
        return path.contains("/dev/whatami/") && !path.contains("/agent-app/");
    }

    @BeforeAll
    static void agentJar() throws IOException {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> jars = new ArrayList<>();
        jar = shared.resolve("whatami-agent.jar");
        Manifest manifest = new Manifest();
        Set<String> seen = new HashSet<>();
        Path project = Path.of("").toAbsolutePath().getParent();
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            for (String entry : cp.split(File.pathSeparator)) {
                Path p = Path.of(entry);
                if (Files.isDirectory(p) && !p.endsWith("test-classes")) {
                    try (Stream<Path> files = Files.walk(p)) {
                        for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                            String name = p.relativize(f).toString().replace(File.separatorChar, '/');
                            if (seen.add(name)) {
                                out.putNextEntry(new JarEntry(name));
                                Files.copy(f, out);
                                out.closeEntry();
                            }
                        }
                    }
                } else if (entry.endsWith(".jar") && Files.isRegularFile(p)
                        && (p.toAbsolutePath().startsWith(project) && p.getParent().endsWith("target")
                        || isProjectModuleInLocalRepository(p))) {
                    try (var in = new java.util.jar.JarInputStream(Files.newInputStream(p))) {
                        for (JarEntry e = in.getNextJarEntry(); e != null; e = in.getNextJarEntry()) {
                            if (!e.isDirectory() && seen.add(e.getName())) {
                                out.putNextEntry(new JarEntry(e.getName()));
                                in.transferTo(out);
                                out.closeEntry();
                            }
                        }
                    }
                } else if (entry.endsWith(".jar") && Files.isRegularFile(p)) {
                    jars.add(p.toUri().toString());
                }
            }
        }
        // written again with its manifest now that the class path is known (the manifest must come first)
        Path body = shared.resolve("body.jar");
        Files.move(jar, body);
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, MAIN);
        manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, String.join(" ", jars));
        try (var in = new java.util.jar.JarInputStream(Files.newInputStream(body));
                JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            for (JarEntry e = in.getNextJarEntry(); e != null; e = in.getNextJarEntry()) {
                out.putNextEntry(new JarEntry(e.getName()));
                in.transferTo(out);
                out.closeEntry();
            }
        }
        Files.delete(body);
    }

    /** A JDK of this feature release: this test's own, or one under /usr/lib/jvm (by its release file). */
    private static Optional<Path> jdk(int feature) throws IOException {
        List<Path> homes = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"))));
        if (Files.isDirectory(JVMS)) {
            try (Stream<Path> s = Files.list(JVMS)) {
                s.sorted().forEach(homes::add);
            }
        }
        for (Path home : homes) {
            Path release = home.resolve("release");
            if (Files.isRegularFile(release) && Files.isExecutable(home.resolve("bin/java"))) {
                String version = Files.readAllLines(release, StandardCharsets.UTF_8).stream()
                        .filter(l -> l.startsWith("JAVA_VERSION=")).findFirst().orElse("");
                if (version.matches("JAVA_VERSION=\"" + feature + "([.\"+].*)?")) {
                    return Optional.of(home.resolve("bin/java").toRealPath());
                }
            }
        }
        return Optional.empty();
    }

    private static Path jdkOrSkip(int feature) throws IOException {
        Optional<Path> java = jdk(feature);
        if (java.isEmpty()) {
            String why = "no JDK " + feature + " here (looked at java.home and " + JVMS + "/*/release): the launcher's "
                    + "cache on JDK " + feature + " is untested on this machine; CI has one and sets "
                    + "WHATAMI_REQUIRE_JDK" + feature + "=1";
            System.err.println("SKIPPED: LauncherCacheTest: " + why);
            assertThat(System.getenv("WHATAMI_REQUIRE_JDK" + feature)).as("WHATAMI_REQUIRE_JDK" + feature
                    + " is set but " + why).isNotEqualTo("1");
            Assumptions.abort(why);
        }
        return java.get();
    }

    @Test
    void jdk17_appCdsArchive_builtUsedAndSkippedWhenDamaged() throws Exception {
        cacheCycle(jdkOrSkip(17), "jsa", "built the AppCDS archive ");
    }

    @Test
    void jdk25_aotCache_builtUsedAndSkippedWhenDamaged() throws Exception {
        cacheCycle(jdkOrSkip(25), "aot", "built the AOT cache ");
    }

    /**
     * An AppCDS archive from a JVM that numbers its class lists (JDK 21 and later; 21-24 get AppCDS from the
     * launcher): the two training boots' lists merge into one the dump accepts, and the archive maps.
     */
    @Test
    void jdk25_appCdsArchive_fromTwoNumberedClassLists() throws Exception {
        Path java = jdkOrSkip(25);
        Path archive = dir.resolve("agent.jsa");
        Process p = new ProcessBuilder(java.toString(), "-jar", jar.toString(), "install", "--cds-only", "--jar",
                jar.toString(), "--java", java.toString(), "--cds-archive", archive.toString())
                .directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(3, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).endsWith("built the AppCDS archive " + archive + "\n");
        Path log = dir.resolve("class-load.log");
        Process run = new ProcessBuilder(java.toString(), "-XX:SharedArchiveFile=" + archive, "-Xshare:on",
                "-Xlog:class+load=info:file=" + log, "-cp", jar.toString(), MAIN, "version")
                .directory(dir.toFile()).redirectErrorStream(true).start();
        String version = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(run.waitFor(1, TimeUnit.MINUTES)).isTrue();
        assertThat(run.exitValue()).as(version).isZero();
        assertThat(Files.readString(log, StandardCharsets.UTF_8)).contains(MAIN + " source: shared objects file");
    }

    private void cacheCycle(Path java, String kind, String built) throws Exception {
        Path cache = dir.resolve("cache");
        Path launcher = Files.writeString(dir.resolve("whatami-agent"), Layout.resource("whatami-agent")
                .replace("\njar=/usr/share/whatami/whatami-agent.jar\n", "\njar=" + jar + "\n")
                .replace("\ncache=/var/cache/whatami\n", "\ncache=" + cache + "\n"));
        Run plain = run(launcher, java, "version");
        assertThat(plain.code).as(plain.err).isZero();
        assertThat(plain.out).startsWith("whatami-agent ");
        assertThat(plain.err).isEmpty();
        assertThat(plain.classes).contains(MAIN + " source: file:" + jar);

        // (a) the training run makes the cache, named after this jar and this JVM, and nothing else
        Run cds = run(launcher, java, "cds");
        Path made = cache.resolve("whatami-agent." + Files.size(jar) + "-"
                + Files.getLastModifiedTime(jar).toInstant().getEpochSecond() + "." + Files.size(java) + "-"
                + Files.getLastModifiedTime(java).toInstant().getEpochSecond() + "." + kind);
        assertThat(cds.code).as(cds.out + cds.err).isZero();
        assertThat(cds.out).isEqualTo(built + made + "\n");
        try (Stream<Path> s = Files.list(cache)) {
            assertThat(s).containsExactly(made);
        }
        // the training boot verified a signed manifest too: its classes and the Ed25519 verification are in the cache,
        // so a first boot with a manifest root key loads none of them from the jar
        assertThat(archivedClasses(java, made)).contains(
                ": dev.whatami.fetch.internal.Manifests app_loader",
                ": dev.whatami.fetch.internal.ManifestDocs app_loader",
                ": dev.whatami.fetch.internal.ManifestDocs$Keys app_loader",
                ": dev.whatami.fetch.internal.ManifestState app_loader",
                ": dev.whatami.fetch.internal.MinisignSignature app_loader",
                ": dev.whatami.fetch.internal.Blake2b app_loader",
                ": dev.whatami.fetch.internal.Ed25519 app_loader");

        // (b) the next start maps it: the agent's own classes come from it, its output is what it was
        Run cached = run(launcher, java, "version");
        assertThat(cached.code).isZero();
        assertThat(cached.out).isEqualTo(plain.out);
        assertThat(cached.err).isEmpty();
        assertThat(cached.classes).contains(MAIN + " source: shared objects file");
        assertThat(run(launcher, java, "cds").out).as("up to date: nothing built").isEmpty();

        // (c) a damaged cache of the right name is skipped: the same output, no warning. Empty (a crash before its
        // blocks reached the disk): the launcher does not pass it. Garbage, or another JVM build's: the JVM skips it.
        // Truncated: JDK 25 skips it too; JDK 17 dies of SIGBUS, so the build syncs the cache before naming it.
        byte[] whole = Files.readAllBytes(made);
        List<byte[]> damages = new ArrayList<>(List.of(new byte[0], "not a cache\n".getBytes(StandardCharsets.UTF_8),
                otherJvmsHeader(whole)));
        if (kind.equals("aot")) {
            damages.add(Arrays.copyOf(whole, whole.length / 3));
        }
        for (byte[] damaged : damages) {
            Files.write(made, damaged);
            Run skipped = run(launcher, java, "version");
            assertThat(skipped.code).as(skipped.err).isZero();
            assertThat(skipped.out).isEqualTo(plain.out);
            assertThat(skipped.err).isEmpty();
            assertThat(skipped.classes).contains(MAIN + " source: file:" + jar)
                    .doesNotContain(MAIN + " source: shared objects file");
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("hs_err"));
        }
        Files.write(made, new byte[0]);
        assertThat(run(launcher, java, "cds").out).as("an empty one is rebuilt").isEqualTo(built + made + "\n");
        assertThat(Files.size(made)).isGreaterThan(whole.length / 2L);

        // a new jar (a new mtime): the old cache is not passed, and `cds` replaces it with one for the new jar
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now().plusSeconds(60)));
        Run stale = run(launcher, java, "version");
        assertThat(stale.out).isEqualTo(plain.out);
        assertThat(stale.classes).contains(MAIN + " source: file:" + jar);
        Run again = run(launcher, java, "cds");
        assertThat(again.code).as(again.err).isZero();
        try (Stream<Path> s = Files.list(cache)) {
            assertThat(s).hasSize(1).noneMatch(made::equals);
        }
        assertThat(run(launcher, java, "version").classes).contains(MAIN + " source: shared objects file");
    }

    /** The classes in the cache, as the JVM lists them ({@code -XX:+PrintSharedArchiveAndExit}: "N: NAME LOADER"). */
    private String archivedClasses(Path java, Path cache) throws IOException, InterruptedException {
        String option = cache.toString().endsWith(".aot") ? "-XX:AOTCache=" : "-XX:SharedArchiveFile=";
        Path out = dir.resolve("archived.txt");
        Process p = new ProcessBuilder(java.toString(), option + cache, "-XX:+PrintSharedArchiveAndExit", "-cp",
                jar.toString()).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(out.toFile())
                .start();
        assertThat(p.waitFor(1, TimeUnit.MINUTES)).isTrue();
        String listed = Files.readString(out, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(listed).isZero();
        return listed;
    }

    /**
     * The cache with its header's JVM identification changed ("OpenJDK 64-Bit Server VM (17.0.15+6...)" with another
     * release digit): what a cache of another build of the JVM looks like to this one.
     */
    private static byte[] otherJvmsHeader(byte[] cache) {
        byte[] copy = cache.clone();
        int at = new String(copy, 0, Math.min(copy.length, 4096), StandardCharsets.ISO_8859_1).indexOf(" VM (");
        assertThat(at).as("the JVM's name in the header").isPositive();
        copy[at + 5] ^= 1;
        return copy;
    }

    private record Run(int code, String out, String err, String classes) {
    }

    /** {@code sh launcher args} on {@code java}; the JVM's class loading logged to a file, not the agent's output. */
    private Run run(Path launcher, Path java, String... args) throws IOException, InterruptedException {
        Path log = Files.createTempFile(dir, "class-load", ".log");
        List<String> cmd = new ArrayList<>(List.of("sh", launcher.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()); // where a crashing JVM leaves hs_err
        Map<String, String> env = pb.environment();
        env.put("WHATAMI_JAVA", java.toString());
        Path out = dir.resolve("out");
        Path err = dir.resolve("err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(
                new File("/dev/null")));
        if (!args[0].equals("cds")) {
            env.put("JDK_JAVA_OPTIONS", "-Xlog:class+load=info:file=" + log);
        }
        Process p = pb.start();
        assertThat(p.waitFor(3, TimeUnit.MINUTES)).as("%s finished", cmd).isTrue();
        String classes = Files.readString(log, StandardCharsets.UTF_8);
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8).replaceAll("(?m)^NOTE: Picked up JDK_JAVA_OPTIONS.*\n",
                        ""), classes);
    }
}
