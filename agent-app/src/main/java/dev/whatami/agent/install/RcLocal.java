package dev.whatami.agent.install;

import java.util.ArrayList;
import java.util.List;

/** The seed's way into boot: the agent's block in {@code /etc/rc.local}. */
final class RcLocal {
    static final String BEGIN = "# >>> whatami >>>";
    static final String END = "# <<< whatami <<<";

    private RcLocal() {
    }

    /**
     * The rc.local text with our block (replacing an earlier one), before its final {@code exit 0}.
     *
     * <p>The agent runs in a session and process group of its own, so the scripts it starts share that group:
     * if the agent dies by a signal ({@code kill -9}, the OOM killer), the group is killed too — a script is never
     * left running without the agent that records how it ended. A script that ends normally keeps
     * what it started only if that detached itself (setsid, start-stop-daemon, a systemd unit). Output stays
     * where rc.local's goes (the console); the agent writes its own agent.log, and each task's output goes to
     * its capped {@code <task>.out|.err}.
     */
    static String withBlock(String rcLocal, boolean cds) {
        List<String> lines = new ArrayList<>(rcLocal.lines().toList());
        int b = lines.indexOf(BEGIN);
        int e = lines.indexOf(END);
        if (b >= 0 && e > b) {
            lines.subList(b, e + 1).clear();
        }
        List<String> block = List.of(BEGIN,
                "# the agent in a process group of its own; if a signal kills it, the script it was running dies too",
                "setsid sh -c '" + InstallCommand.LAUNCHER + " run; [ $? -lt 128 ] || kill -KILL 0" + (cds ? "; " + InstallCommand.LAUNCHER
                        + " cds >/dev/null 2>&1" : "") + "' </dev/null &",
                END);
        int exit = -1;
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).strip().equals("exit 0")) {
                exit = i;
                break;
            }
        }
        if (lines.isEmpty() || !lines.get(0).startsWith("#!")) {
            lines.add(0, "#!/bin/sh -e");
            exit = exit < 0 ? -1 : exit + 1;
        }
        lines.addAll(exit < 0 ? lines.size() : exit, block);
        return String.join("\n", lines) + "\n";
    }
}
