package dev.whatami.apicheck;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/** The reactor as the check sees it: the root pom's modules, their registration, their poms. */
final class Reactor {
    enum Kind { LIBRARY, APPLICATION, NONE }

    /** One registered module: its directory, kind and (for a library) its API packages, first the main one. */
    record Module(String dir, Kind kind, List<String> api) {}

    final Path root;

    Reactor(Path root) {
        this.root = root;
    }

    static Reactor fromSystemProperty() {
        String root = System.getProperty("whatami.root");
        if (root == null) {
            throw new IllegalStateException("whatami.root is not set: run the check through Maven (./mvnw -B verify)");
        }
        return new Reactor(Path.of(root).toAbsolutePath().normalize());
    }

    /** The {@code <modules>} of the root pom, in order. */
    List<String> modules() {
        return children(pom(root.resolve("pom.xml")), "modules", "module");
    }

    /** The modules api-packages.properties registers (a module registered twice appears twice). */
    static List<Module> registered(Properties registry) {
        List<Module> modules = new ArrayList<>();
        for (String key : new java.util.TreeSet<>(registry.stringPropertyNames())) {
            String value = registry.getProperty(key);
            if (key.startsWith("library.")) {
                modules.add(new Module(key.substring("library.".length()), Kind.LIBRARY, list(value)));
            } else if (key.equals("application")) {
                list(value).forEach(m -> modules.add(new Module(m, Kind.APPLICATION, List.of())));
            } else if (key.equals("none")) {
                list(value).forEach(m -> modules.add(new Module(m, Kind.NONE, List.of())));
            } else {
                throw new IllegalArgumentException("api-packages.properties: unknown key '" + key
                        + "' (expected library.<module>, application or none)");
            }
        }
        return modules;
    }

    static Properties registry() {
        Properties p = new Properties();
        try (InputStream in = Reactor.class.getResourceAsStream("/api-packages.properties")) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    static List<String> allowlistLines() {
        try (InputStream in = Reactor.class.getResourceAsStream("/internal-uses-allowed.txt")) {
            return Arrays.asList(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\n", -1));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String artifactId(String module) {
        return text(pom(root.resolve(module).resolve("pom.xml")).getDocumentElement(), "artifactId");
    }

    String version(String module) {
        Element project = pom(root.resolve(module).resolve("pom.xml")).getDocumentElement();
        return text(project, "version");
    }

    /** groupId:artifactId of each dependency a module's pom declares directly. */
    List<String> dependencies(String module) {
        return coordinates(directChild(pom(root.resolve(module).resolve("pom.xml")).getDocumentElement(), "dependencies"));
    }

    /** groupId:artifactId:version of each dependency the module's pom manages (the BOM). */
    Map<String, String> managed(String module) {
        Element dm = directChild(pom(root.resolve(module).resolve("pom.xml")).getDocumentElement(), "dependencyManagement");
        Map<String, String> versions = new LinkedHashMap<>();
        if (dm == null) {
            return versions;
        }
        Element deps = directChild(dm, "dependencies");
        for (Node n = deps == null ? null : deps.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals("dependency")) {
                versions.put(text(e, "groupId") + ":" + text(e, "artifactId"), text(e, "version"));
            }
        }
        return versions;
    }

    Path classes(String module) {
        return root.resolve(module).resolve("target/classes");
    }

    Path testClasses(String module) {
        return root.resolve(module).resolve("target/test-classes");
    }

    /** Whether the module has main sources (then it must have been compiled before the check runs). */
    boolean hasMainSources(String module) {
        Path src = root.resolve(module).resolve("src/main/java");
        if (!Files.isDirectory(src)) {
            return false;
        }
        try (var files = Files.walk(src)) {
            return files.anyMatch(f -> f.toString().endsWith(".java"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> coordinates(Element dependencies) {
        List<String> out = new ArrayList<>();
        for (Node n = dependencies == null ? null : dependencies.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals("dependency")) {
                out.add(text(e, "groupId") + ":" + text(e, "artifactId"));
            }
        }
        return out;
    }

    private static List<String> list(String value) {
        return Arrays.stream(value.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    private static List<String> children(Document pom, String parent, String child) {
        Element p = directChild(pom.getDocumentElement(), parent);
        List<String> out = new ArrayList<>();
        for (Node n = p == null ? null : p.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(child)) {
                out.add(e.getTextContent().strip());
            }
        }
        return out;
    }

    private static Element directChild(Element parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e;
            }
        }
        return null;
    }

    private static String text(Element parent, String name) {
        Element e = directChild(parent, name);
        return e == null ? null : e.getTextContent().strip();
    }

    private static Document pom(Path file) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            return f.newDocumentBuilder().parse(file.toFile());
        } catch (Exception e) {
            throw new IllegalStateException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
