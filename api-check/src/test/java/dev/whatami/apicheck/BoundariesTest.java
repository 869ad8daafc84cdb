package dev.whatami.apicheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The rules themselves, on fixtures that break them in known ways. */
class BoundariesTest {
    private static final String LIB = "dev.whatami.apicheck.fixture.lib";
    private static final JavaClasses LIB_CLASSES = new ClassFileImporter().importPackages(LIB);
    private static final JavaClasses OTHER_CLASSES =
            new ClassFileImporter().importPackages("dev.whatami.apicheck.fixture.other");

    @Test
    void internalRoot_isThePackageBeforeTheFirstInternalSegment() {
        assertEquals(Optional.of("a.b"), Boundaries.internalRoot("a.b.internal"));
        assertEquals(Optional.of("a.b"), Boundaries.internalRoot("a.b.internal.c.internal"));
        assertEquals(Optional.empty(), Boundaries.internalRoot("a.b.internals"));
        assertEquals(Optional.empty(), Boundaries.internalRoot("a.b"));
    }

    @Test
    void strayPackages_areThoseNeitherApiNorUnderItsInternalPackage() {
        assertEquals(List.of("lib: package " + LIB + ".stray is neither an API package of lib [" + LIB + "] nor inside"
                        + " one's internal package. Move it under " + LIB + ".internal (implementation), or, if it is"
                        + " API, add it to lib's line in api-check/src/test/resources/api-packages.properties."),
                Boundaries.strayPackages("lib", List.of(LIB), LIB_CLASSES));
        assertEquals(List.of(), Boundaries.strayPackages("lib", List.of(LIB, LIB + ".stray"), LIB_CLASSES));
    }

    @Test
    void exposedInternals_findEveryPublicOrProtectedSignature_andNothingElse() {
        String hint = ". A public signature of an API type must not name an internal type: expose an API type (an"
                + " interface in the API package) or make the member non-public.";
        String w = LIB + ".Widget";
        String in = LIB + ".internal.";
        String leak = w + "$Nested.leak(" + in + "Impl)"; // erased: <T extends Impl> T leak(T)
        assertEquals(List.of(
                        "lib: " + w + " extends names " + in + "BaseImpl" + hint,
                        "lib: " + leak + " parameter names " + in + "Impl" + hint,
                        "lib: " + leak + " return type names " + in + "Impl" + hint,
                        "lib: " + leak + " type parameter names " + in + "Impl" + hint,
                        "lib: " + w + ".DEFAULT field type names " + in + "Impl" + hint,
                        "lib: " + w + ".all(java.util.List) parameter names " + in + "Impl" + hint,
                        "lib: " + w + ".deep() return type names " + in + "deep.Deeper" + hint,
                        "lib: " + w + ".fail() throws names " + in + "ImplException" + hint,
                        "lib: " + w + ".impl() return type names " + in + "Impl" + hint),
                Boundaries.exposedInternals("lib", List.of(LIB), LIB_CLASSES));
    }

    @Test
    void foreignInternalUses_areUsesOfAnotherModulesInternals_byTopLevelClass() {
        Map<String, String> owners = Map.of(LIB, "lib");
        List<Boundaries.InternalUse> uses = Boundaries.foreignInternalUses("other", OTHER_CLASSES, owners);
        assertEquals(List.of("dev.whatami.apicheck.fixture.other.User -> " + LIB + ".internal.Impl"),
                uses.stream().map(Boundaries.InternalUse::key).toList());
        assertEquals("other uses lib's internal class: dev.whatami.apicheck.fixture.other.User -> " + LIB
                        + ".internal.Impl (User.java:8). Use lib's API instead, or ask its owner to make what you need API.",
                Boundaries.describe("other", uses.get(0)));
        assertEquals(List.of(), Boundaries.foreignInternalUses("lib", LIB_CLASSES, owners));
        assertEquals(List.of("(no registered module)"),
                Boundaries.foreignInternalUses("other", OTHER_CLASSES, Map.of()).stream()
                        .map(Boundaries.InternalUse::targetModule).toList());
    }

    @Test
    void allowlist_allowsListedUses_andReportsLinesThatNoLongerMatch() {
        Allowlist allowed = Allowlist.parse(List.of(
                "# comment",
                "",
                "a.X -> b.internal.Y   # owner: remove when done",
                "a.Z->b.internal.W"));
        Boundaries.InternalUse xy = new Boundaries.InternalUse("a.X", "b.internal.Y", "b", "(X.java:1)");
        Boundaries.InternalUse other = new Boundaries.InternalUse("a.X", "b.internal.Q", "b", "(X.java:2)");
        assertEquals(true, allowed.allows(xy));
        assertEquals(false, allowed.allows(other));
        assertEquals(List.of("internal-uses-allowed.txt line 4 allows a.Z -> b.internal.W, which no longer happens:"
                + " delete the line."), allowed.stale(List.of(xy, other)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Allowlist.parse(List.of("a.X b.Y")));
        assertEquals("internal-uses-allowed.txt line 1: expected '<class> -> <internal class>', got 'a.X b.Y'", e.getMessage());
    }
}
