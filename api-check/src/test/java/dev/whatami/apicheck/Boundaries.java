package dev.whatami.apicheck;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.domain.JavaType;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The three rules a {@code module-info} exporting only the API packages would give every user, class path users
 * included: a library's packages are its API packages and their {@code …internal} packages; no public signature of
 * an API type names an internal type; no module uses another module's internal packages.
 */
final class Boundaries {
    private Boundaries() {}

    /** A use of another module's internal class, by top-level class names. */
    record InternalUse(String origin, String target, String targetModule, String location) {
        String key() {
            return origin + " -> " + target;
        }
    }

    /**
     * The API package an internal package belongs to: {@code a.b} for {@code a.b.internal} and
     * {@code a.b.internal.c}; empty for a package with no {@code internal} segment.
     */
    static Optional<String> internalRoot(String pkg) {
        String[] parts = pkg.split("\\.");
        for (int i = 0; i < parts.length; i++) {
            if (parts[i].equals("internal")) {
                return Optional.of(String.join(".", List.of(parts).subList(0, i)));
            }
        }
        return Optional.empty();
    }

    /** Packages of a library that are neither one of its API packages nor inside one's internal package. */
    static List<String> strayPackages(String module, List<String> api, JavaClasses main) {
        Set<String> stray = new TreeSet<>();
        for (JavaClass c : main) {
            String pkg = c.getPackageName();
            boolean ok = api.contains(pkg) || internalRoot(pkg).filter(api::contains).isPresent();
            if (!ok) {
                stray.add(pkg);
            }
        }
        String internal = api.get(0) + ".internal";
        return stray.stream()
                .map(pkg -> module + ": package " + pkg + " is neither an API package of " + module + " " + api
                        + " nor inside one's internal package. Move it under " + internal + " (implementation), or,"
                        + " if it is API, add it to " + module + "'s line in api-check/src/test/resources/api-packages.properties.")
                .toList();
    }

    /** Public or protected signatures of a library's API types that name an internal type. */
    static List<String> exposedInternals(String module, List<String> api, JavaClasses main) {
        Set<String> found = new TreeSet<>();
        for (JavaClass c : main) {
            if (!api.contains(c.getPackageName()) || !visible(c)) {
                continue;
            }
            c.getSuperclass().ifPresent(t -> check(found, c.getName() + " extends", t));
            c.getInterfaces().forEach(t -> check(found, c.getName() + " implements", t));
            c.getTypeParameters().forEach(t -> check(found, c.getName() + " type parameter", t));
            for (JavaField f : c.getFields()) {
                if (member(f.getModifiers())) {
                    check(found, f.getFullName() + " field type", f.getType());
                }
            }
            for (JavaCodeUnit u : c.getCodeUnits()) {
                if (!member(u.getModifiers()) || u.getName().equals("<clinit>")) {
                    continue;
                }
                check(found, u.getFullName() + " return type", u.getReturnType());
                u.getParameterTypes().forEach(t -> check(found, u.getFullName() + " parameter", t));
                u.getThrowsClause().getTypes().forEach(t -> check(found, u.getFullName() + " throws", t));
                u.getTypeParameters().forEach(t -> check(found, u.getFullName() + " type parameter", t));
            }
        }
        return found.stream()
                .map(s -> module + ": " + s + ". A public signature of an API type must not name an internal type:"
                        + " expose an API type (an interface in the API package) or make the member non-public.")
                .toList();
    }

    /**
     * Classes of {@code module} that use a class in an internal package of another module (or of no registered
     * module). {@code ownerByApiPackage} maps each API package to its module.
     */
    static List<InternalUse> foreignInternalUses(String module, JavaClasses classes, Map<String, String> ownerByApiPackage) {
        Map<String, InternalUse> uses = new TreeMap<>();
        for (JavaClass c : classes) {
            for (Dependency d : c.getDirectDependenciesFromSelf()) {
                JavaClass target = base(d.getTargetClass());
                String pkg = target.getPackageName();
                if (!pkg.startsWith("dev.whatami.")) {
                    continue;
                }
                Optional<String> root = internalRoot(pkg);
                if (root.isEmpty()) {
                    continue;
                }
                String owner = owner(root.get(), ownerByApiPackage);
                if (owner.equals(module)) {
                    continue;
                }
                InternalUse use = new InternalUse(topLevel(c.getName()), topLevel(target.getName()), owner,
                        d.getSourceCodeLocation().toString());
                uses.putIfAbsent(use.key(), use);
            }
        }
        return List.copyOf(uses.values());
    }

    static String describe(String module, InternalUse use) {
        return module + " uses " + use.targetModule() + "'s internal class: " + use.key() + " " + use.location()
                + ". Use " + use.targetModule() + "'s API instead, or ask its owner to make what you need API.";
    }

    private static String owner(String root, Map<String, String> ownerByApiPackage) {
        String best = null;
        for (String api : ownerByApiPackage.keySet()) {
            if ((root.equals(api) || root.startsWith(api + ".")) && (best == null || api.length() > best.length())) {
                best = api;
            }
        }
        return best == null ? "(no registered module)" : ownerByApiPackage.get(best);
    }

    private static void check(Collection<String> found, String where, JavaType type) {
        for (JavaClass raw : type.getAllInvolvedRawTypes()) {
            JavaClass t = base(raw);
            if (internalRoot(t.getPackageName()).isPresent()) {
                found.add(where + " names " + t.getName());
            }
        }
    }

    private static JavaClass base(JavaClass c) {
        return c.isArray() ? c.getBaseComponentType() : c;
    }

    private static String topLevel(String className) {
        int dollar = className.indexOf('$');
        return dollar < 0 ? className : className.substring(0, dollar);
    }

    /** A class a user can name: public (or protected, when nested) all the way out. */
    private static boolean visible(JavaClass c) {
        if (c.getSimpleName().equals("package-info") || c.isAnonymousClass() || c.isLocalClass()) {
            return false;
        }
        for (JavaClass k = c; k != null; k = k.getEnclosingClass().orElse(null)) {
            Set<JavaModifier> m = k.getModifiers();
            if (!m.contains(JavaModifier.PUBLIC) && !(k.isNestedClass() && m.contains(JavaModifier.PROTECTED))) {
                return false;
            }
        }
        return true;
    }

    private static boolean member(Set<JavaModifier> m) {
        return (m.contains(JavaModifier.PUBLIC) || m.contains(JavaModifier.PROTECTED))
                && !m.contains(JavaModifier.SYNTHETIC) && !m.contains(JavaModifier.BRIDGE);
    }
}
