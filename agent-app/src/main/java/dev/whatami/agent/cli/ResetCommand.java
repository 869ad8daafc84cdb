package dev.whatami.agent.cli;

import dev.whatami.boot.Ledger;
import dev.whatami.status.RunStatus;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code whatami-agent reset}: forget tasks so they run again at the next run, like {@code cloud-init clean}. */
@Command(name = "reset", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Forget what the run-once ledger knows of the named tasks (or of every task with --all), so "
                + "they run again at the next run, as new tasks. Logged to agent.log and recorded in the ledger. "
                + "Refused while an agent runs."})
final class ResetCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(ResetCommand.class);

    private final Map<String, String> env;

    @Parameters(paramLabel = "TASK", arity = "0..*", description = "Task names as status shows them, e.g. collector.pl.")
    List<String> tasks = new ArrayList<>();

    @Option(names = "--all", description = "Forget every task of the instance, and the once-per-image tasks.")
    boolean all;

    @Option(names = "--dry-run", description = "Say what would be forgotten; change nothing.")
    boolean dryRun;

    @Option(names = "--instance", paramLabel = "ID", description = "The instance whose ledger to change. Default: "
            + "the one the last run booted as (status.json).")
    String instance;

    @Option(names = "--state-dir", paramLabel = "DIR", description = "Default: $WHATAMI_STATE_DIR, else state-dir= in "
            + "the config file, else " + RunCommand.STATE_DIR)
    Path stateDir;

    @Option(names = "--config", paramLabel = "FILE", description = "Config file. Default: $WHATAMI_CONFIG, else "
            + "/etc/whatami/agent.properties when it exists.")
    Path config;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    ResetCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (all == !tasks.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "name the tasks to forget (e.g. whatami-agent "
                    + "reset collector.pl), or give --all");
        }
        Path dir;
        try {
            dir = StateFiles.stateDir(stateDir, env, config);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        Optional<Path> instanceDir = instanceDir(dir);
        if (instanceDir.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "cannot tell which instance to reset: no "
                    + "status.json in " + dir + " and not exactly one instance in " + dir.resolve("instances")
                    + "; give --instance ID");
        }
        String id = instanceDir.get().getFileName().toString();
        if (!dryRun) {
            Path logs = StateFiles.logDir(env, config);
            try {
                AgentLog.alsoTo(logs.resolve("agent.log"), false);
            } catch (IOException e) {
                LOG.warn("cannot write {}: {}", logs.resolve("agent.log"), e.getMessage());
            }
        }
        try (FileChannel channel = FileChannel.open(dir.resolve("agent.lock"), Set.of(StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)); FileLock lock = channel.tryLock()) {
            if (lock == null) {
                spec.commandLine().getErr().println("whatami-agent reset: an agent is running; wait for it (whatami-agent "
                        + "status --wait) and reset then");
                return ExitCode.TASK_FAILED.code();
            }
            Ledger ledger = Ledger.open(instanceDir.get(), dir, "reset", Clock.systemUTC());
            Set<String> known = new TreeSet<>();
            ledger.entries().forEach(e -> known.add(e.name()));
            List<String> unknown = tasks.stream().filter(t -> !known.contains(t)).toList();
            if (!unknown.isEmpty()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "the ledger of " + id + " knows no "
                        + "task " + String.join(", ", unknown) + (known.isEmpty() ? " (it knows none)"
                        : "; it knows " + String.join(", ", known)));
            }
            List<Ledger.Entry> forgotten = dryRun ? ledger.entries().stream()
                    .filter(e -> all || tasks.contains(e.name())).toList() : ledger.forget(all ? List.of() : tasks);
            for (Ledger.Entry e : forgotten) {
                String line = (dryRun ? "would forget " : "forgot ") + e.name() + " (" + e.state() + ", "
                        + e.attempts() + (e.attempts() == 1 ? " attempt" : " attempts") + "): it runs again at the "
                        + "next run";
                out.println(line);
                if (!dryRun) {
                    LOG.info("reset: {}", line);
                }
            }
            if (forgotten.isEmpty()) {
                out.println("nothing to forget: the ledger of " + id + " is empty");
            }
            out.flush();
            return ExitCode.OK.code();
        } catch (IOException e) {
            spec.commandLine().getErr().println("whatami-agent reset: " + e.getMessage());
            return ExitCode.TASK_FAILED.code();
        }
    }

    /** The instance's directory: --instance, else the last run's, else the only one there is. */
    private Optional<Path> instanceDir(Path dir) throws IOException {
        Path instances = dir.resolve("instances");
        Optional<String> id = Optional.ofNullable(instance);
        if (id.isEmpty()) {
            try {
                id = StateFiles.read(dir.resolve("status.json")).flatMap(RunStatus::instance).map(i -> i.instanceId());
            } catch (StateFiles.UnreadableStatusException e) {
                // fall back to the only instance there is
            }
        }
        if (id.isPresent()) {
            return Optional.of(dev.whatami.boot.Boot.instanceDirectory(dir, id.get()));
        }
        if (!Files.isDirectory(instances, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try (Stream<Path> s = Files.list(instances)) {
            List<Path> dirs = s.filter(Files::isDirectory).toList();
            return dirs.size() == 1 ? Optional.of(dirs.get(0)) : Optional.empty();
        }
    }
}
