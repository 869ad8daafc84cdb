package dev.whatami.apicheck;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Known uses of another module's internals ({@code internal-uses-allowed.txt}): {@code <class> -> <class>} per line,
 * {@code #} starts a comment. A line that no longer matches a use is stale, and the check says to delete it.
 */
final class Allowlist {
    private final Map<String, Integer> lineByKey;

    private Allowlist(Map<String, Integer> lineByKey) {
        this.lineByKey = lineByKey;
    }

    static Allowlist parse(List<String> lines) {
        Map<String, Integer> byKey = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int hash = line.indexOf('#');
            String entry = (hash < 0 ? line : line.substring(0, hash)).strip();
            if (entry.isEmpty()) {
                continue;
            }
            String[] sides = entry.split("\\s*->\\s*");
            if (sides.length != 2 || sides[0].isBlank() || sides[1].isBlank()) {
                throw new IllegalArgumentException("internal-uses-allowed.txt line " + (i + 1) + ": expected"
                        + " '<class> -> <internal class>', got '" + entry + "'");
            }
            byKey.put(sides[0] + " -> " + sides[1], i + 1);
        }
        return new Allowlist(byKey);
    }

    boolean allows(Boundaries.InternalUse use) {
        return lineByKey.containsKey(use.key());
    }

    /** Lines that match none of {@code uses}, as messages. */
    List<String> stale(List<Boundaries.InternalUse> uses) {
        Set<String> seen = uses.stream().map(Boundaries.InternalUse::key).collect(Collectors.toSet());
        return lineByKey.entrySet().stream()
                .filter(e -> !seen.contains(e.getKey()))
                .map(e -> "internal-uses-allowed.txt line " + e.getValue() + " allows " + e.getKey()
                        + ", which no longer happens: delete the line.")
                .toList();
    }
}
