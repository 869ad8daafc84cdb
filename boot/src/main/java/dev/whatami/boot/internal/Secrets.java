package dev.whatami.boot.internal;

import dev.whatami.userdata.Redact;
import dev.whatami.userdata.TaskPlan;
import dev.whatami.userdata.TaskSpec;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What must never leave the instance in clear: every {@code env.*} value of the plan and the report token. Script
 * output echoed to the console and the output tails in reports are passed through {@link #redact}.
 */
final class Secrets {
    private final Set<String> values = new LinkedHashSet<>();

    void add(String secret) {
        if (secret != null && secret.length() >= 3) { // shorter values would blank out ordinary words
            values.add(secret);
        }
    }

    void addPlan(TaskPlan plan) {
        for (TaskSpec t : plan.tasks()) {
            t.env().values().forEach(this::add);
        }
    }

    String redact(String text) {
        return Redact.text(text, values);
    }

    List<String> redact(Collection<String> lines) {
        List<String> out = new ArrayList<>(lines.size());
        lines.forEach(l -> out.add(redact(l)));
        return out;
    }
}
