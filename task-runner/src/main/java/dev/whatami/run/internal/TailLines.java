package dev.whatami.run.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.apache.commons.exec.LogOutputStream;

/** Keeps the last lines written to it, each cut to a bounded length: the output tail of one run. Thread-safe. */
final class TailLines extends LogOutputStream {
    static final int LINES = 20;
    static final int LINE = 300;

    private final Deque<String> lines = new ArrayDeque<>();

    @Override
    protected synchronized void processLine(String line, int level) {
        if (lines.size() == LINES) {
            lines.removeFirst();
        }
        lines.addLast(line.length() > LINE ? line.substring(0, LINE) + "\u2026" : line);
    }

    synchronized List<String> lines() {
        return new ArrayList<>(lines);
    }
}
