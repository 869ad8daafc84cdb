package dev.whatami.agent;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code whatami-agent status}: what the last run did, like {@code cloud-init status [--wait]}. */
@Command(name = "status", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Show what the last run did. With --wait, wait until a running agent finishes; the exit "
                + "code then mirrors the run's (0 done, 1 a task failed, 2 user-data invalid, 3 metadata "
                + "unreachable, 4 fetch refused)."})
final class StatusCommand implements Callable<Integer> {
    /** Waits between polls; tests replace it. */
    interface Pause {
        void pause(Duration d) throws InterruptedException;
    }

    private final Pause pause;

    @Option(names = "--state-dir", paramLabel = "DIR", defaultValue = "${env:WHATAMI_STATE_DIR:-/var/lib/whatami}",
            description = "Where status.json is. Default: ${DEFAULT-VALUE}")
    Path stateDir;

    @Option(names = "--json", description = "Print status.json as it is (for tools).")
    boolean json;

    @Option(names = "--wait", description = "Wait until the agent has finished (or has not started and then runs).")
    boolean waitForIt;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "0",
            description = "With --wait: give up after this many seconds (exit 1); 0 waits for ever. Default: 0")
    long timeoutSeconds;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    StatusCommand() {
        this(d -> Thread.sleep(d.toMillis()));
    }

    StatusCommand(Pause pause) {
        this.pause = pause;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path file = stateDir.resolve("status.json");
        long waited = 0;
        long pollMillis = 250;
        while (true) {
            Map<String, Object> status = read(file);
            String state = status == null ? "not-run" : effectiveState(status);
            boolean finished = !state.equals("running") && !state.equals("not-run");
            if (finished || !waitForIt) {
                print(out, file, status, state);
                if (status == null || state.equals("running")) {
                    return 0;
                }
                return state.equals("interrupted") ? 1 : ((Number) status.getOrDefault("exitCode", 1)).intValue();
            }
            if (timeoutSeconds > 0 && waited >= timeoutSeconds * 1000) {
                err.println("whatami-agent status: still " + state + " after " + timeoutSeconds + " s (" + file + ")");
                return 1;
            }
            pause.pause(Duration.ofMillis(pollMillis));
            waited += pollMillis;
        }
    }

    private static Map<String, Object> read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return null;
        }
        return Json.read(file); // written atomically: never half a file
    }

    /** "running" with a dead pid means the agent was killed: say so instead of waiting for ever. */
    static String effectiveState(Map<String, Object> status) {
        String state = String.valueOf(status.get("state"));
        if (state.equals("running") && status.get("pid") instanceof Number pid
                && ProcessHandle.of(pid.longValue()).map(ProcessHandle::isAlive).orElse(false) == Boolean.FALSE) {
            return "interrupted";
        }
        return state;
    }

    private void print(PrintWriter out, Path file, Map<String, Object> status, String state) {
        if (json) {
            Map<String, Object> doc = status == null ? new LinkedHashMap<>() : new LinkedHashMap<>(status);
            doc.put("state", state);
            out.println(Json.pretty(doc));
        } else if (status == null) {
            out.println("status: not run (no " + file + ")");
        } else {
            out.println("status: " + state + (status.containsKey("exitCode") ? " (exit " + status.get("exitCode")
                    + ")" : ""));
            if (status.get("instanceId") != null) {
                out.println("instance: " + status.get("instanceId") + " (" + status.get("provider") + ")");
            }
            if (status.get("message") != null) {
                out.println("message: " + status.get("message"));
            } else if (state.equals("interrupted")) {
                out.println("message: the agent stopped while running (started " + status.get("startedAt") + ")");
            }
            if (status.get("tasks") instanceof List<?> tasks) {
                for (Object t : tasks) {
                    if (t instanceof Map<?, ?> m) {
                        out.println("  " + m.get("name") + ": " + m.get("state")
                                + (m.get("exitCode") != null ? " (exit " + m.get("exitCode") + ")" : "")
                                + (m.get("attempt") != null ? ", attempt " + m.get("attempt") : ""));
                    }
                }
            }
            if (status.get("finishedAt") != null) {
                out.println("finished: " + status.get("finishedAt") + " (" + Duration.between(
                        Instant.parse(String.valueOf(status.get("startedAt"))),
                        Instant.parse(String.valueOf(status.get("finishedAt")))).toMillis() + " ms)");
            }
        }
        out.flush();
    }
}
