package dev.whatami.apicheck;

import static org.junit.jupiter.api.Assertions.fail;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import dev.whatami.apicheck.Reactor.Kind;
import dev.whatami.apicheck.Reactor.Module;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The project's public/internal split and its BOM, checked on the compiled modules (what a module-info would
 * enforce, for class path users too; docs/library.md says why it is a check). Each failure says what to
 * change.
 */
class ApiBoundaryTest {
    private static final String REGISTRY = "api-check/src/test/resources/api-packages.properties";
    /** Each module's classes are read once for all the rules (JUnit makes a new instance per test). */
    private static final Map<List<Path>, JavaClasses> IMPORTED = new java.util.concurrent.ConcurrentHashMap<>();

    private final Reactor reactor = Reactor.fromSystemProperty();
    private final List<Module> registered = Reactor.registered(Reactor.registry());

    @Test
    void everyReactorModule_isRegisteredOnce_andBuiltBeforeTheCheck() {
        List<String> problems = new ArrayList<>();
        List<String> modules = reactor.modules();
        for (String m : modules) {
            long times = registered.stream().filter(r -> r.dir().equals(m)).count();
            if (times == 0) {
                problems.add("module " + m + " is not registered: add it to " + REGISTRY
                        + " (library.<module> = its API packages, or to application or none)");
            } else if (times > 1) {
                problems.add("module " + m + " is registered " + times + " times in " + REGISTRY + ": keep one");
            }
        }
        registered.stream().map(Module::dir).filter(m -> !modules.contains(m)).distinct()
                .forEach(m -> problems.add(REGISTRY + " registers " + m + ", which is not a module of the root pom.xml: remove it"));
        List<String> deps = reactor.dependencies("api-check");
        for (Module m : published()) {
            if (!deps.contains("dev.whatami:" + reactor.artifactId(m.dir()))) {
                problems.add("api-check/pom.xml does not depend on " + m.dir() + ", so the reactor may build it after"
                        + " the check: add it beside the others (test scope, all exclusions)");
            }
            if (reactor.hasMainSources(m.dir()) && !Files.isDirectory(reactor.classes(m.dir()))) {
                problems.add(m.dir() + " has sources but no target/classes: build the reactor (./mvnw -B verify, or"
                        + " -pl api-check -am)");
            }
        }
        report(problems);
    }

    @Test
    void libraries_holdOnlyTheirApiPackagesAndTheirInternalPackages() {
        List<String> problems = new ArrayList<>();
        for (Module m : libraries()) {
            problems.addAll(Boundaries.strayPackages(m.dir(), m.api(), main(m)));
        }
        report(problems);
    }

    @Test
    void publicApiSignatures_nameNoInternalType() {
        List<String> problems = new ArrayList<>();
        for (Module m : libraries()) {
            problems.addAll(Boundaries.exposedInternals(m.dir(), m.api(), main(m)));
        }
        report(problems);
    }

    @Test
    void noModule_usesAnotherModulesInternalPackages() {
        Map<String, String> owners = new LinkedHashMap<>();
        libraries().forEach(m -> m.api().forEach(p -> owners.put(p, m.dir())));
        Allowlist allowed = Allowlist.parse(Reactor.allowlistLines());
        List<Boundaries.InternalUse> all = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (Module m : published()) {
            for (Boundaries.InternalUse use : Boundaries.foreignInternalUses(m.dir(), mainAndTests(m), owners)) {
                all.add(use);
                if (!allowed.allows(use)) {
                    problems.add(Boundaries.describe(m.dir(), use));
                }
            }
        }
        problems.addAll(allowed.stale(all));
        report(problems);
    }

    @Test
    void bom_managesEveryPublishedArtifact_atTheProjectVersion() {
        Map<String, String> managed = reactor.managed("bom");
        List<String> problems = new ArrayList<>();
        String version = reactor.version(".");
        if (!version.equals(reactor.version("bom"))) {
            problems.add("bom/pom.xml is version " + reactor.version("bom") + ", the project " + version
                    + ": set bom/pom.xml's <version> to " + version + " (it does not inherit the parent's)");
        }
        TreeSet<String> expected = new TreeSet<>();
        for (Module m : published()) {
            expected.add("dev.whatami:" + reactor.artifactId(m.dir()));
        }
        for (String ga : expected) {
            if (!managed.containsKey(ga)) {
                problems.add("bom/pom.xml does not manage " + ga + ": add it at ${project.version}");
            } else if (!"${project.version}".equals(managed.get(ga))) {
                problems.add("bom/pom.xml manages " + ga + " at " + managed.get(ga) + ": use ${project.version}");
            }
        }
        managed.keySet().stream().filter(ga -> !expected.contains(ga)).forEach(ga -> problems.add(
                "bom/pom.xml manages " + ga + ", which is no published module of this reactor: remove it"));
        report(problems);
    }

    private List<Module> libraries() {
        return registered.stream().filter(m -> m.kind() == Kind.LIBRARY).toList();
    }

    private List<Module> published() {
        return registered.stream().filter(m -> m.kind() != Kind.NONE).toList();
    }

    private JavaClasses main(Module m) {
        return load(Stream.of(reactor.classes(m.dir())));
    }

    private JavaClasses mainAndTests(Module m) {
        return load(Stream.of(reactor.classes(m.dir()), reactor.testClasses(m.dir())));
    }

    private static JavaClasses load(Stream<Path> dirs) {
        return IMPORTED.computeIfAbsent(dirs.filter(Files::isDirectory).toList(),
                paths -> new ClassFileImporter().importPaths(paths));
    }

    private static void report(List<String> problems) {
        if (!problems.isEmpty()) {
            fail(problems.size() + " problem(s):\n  " + String.join("\n  ", problems));
        }
    }
}
