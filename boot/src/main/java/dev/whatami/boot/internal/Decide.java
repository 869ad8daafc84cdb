package dev.whatami.boot.internal;

import dev.whatami.boot.Ledger;
import dev.whatami.userdata.TaskSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Step 1 of a task: is it due? The run-once ledger says run (as which attempt), skip, or report without running. */
final class Decide {
    private static final Logger LOG = LoggerFactory.getLogger(Decide.class);

    private final Ledger ledger;

    Decide(Ledger ledger) {
        this.ledger = ledger;
    }

    static Ledger.Task entry(TaskSpec task) {
        return new Ledger.Task(task.name(), task.identity(), task.frequency(), task.retries());
    }

    Ledger.Decision decide(TaskSpec task) {
        Ledger.Task entry = entry(task);
        Ledger.Decision d = ledger.decide(entry);
        if (ledger.wasInterrupted(entry)) {
            LOG.warn("task {}: its previous attempt was interrupted (the agent or the machine stopped while it ran)",
                    task.name());
        }
        switch (d.action()) {
            case SKIP -> LOG.info("task {}: skipped, {}", task.name(), d.reason());
            case GIVE_UP -> LOG.warn("task {}: not run: {}", task.name(), d.reason());
            default -> LOG.debug("task {}: attempt {} ({})", task.name(), d.attempt(), d.reason());
        }
        return d;
    }
}
