package dev.whatami.userdata;

import java.util.Map;

/**
 * Writes a {@link TaskSpec} back as one line of user-data, such that {@link UserDataParser} reads it as an
 * equal task. Useful for tools that generate user-data.
 */
public final class LineForm {
    private LineForm() {
    }

    /**
     * The task as a line, e.g. {@code collector.pl 192.168.7.77 sha256=… -- fast}.
     *
     * @throws IllegalArgumentException when the task has no line form: its script is inline, or an argument or
     *                                  {@code env.} value is empty or holds whitespace
     */
    public static String render(TaskSpec task) {
        if (!(task.source() instanceof TaskSource.Remote remote)) {
            throw new IllegalArgumentException("task " + task.name() + " carries its script inline; only tasks "
                    + "with a URL have a line form");
        }
        StringBuilder b = new StringBuilder();
        String seedUrl = task.server().map(s -> "http://" + s + "/scriptserver/" + task.name()).orElse(null);
        if (remote.url().toString().equals(seedUrl)) {
            b.append(task.name()).append(' ').append(task.server().orElseThrow());
        } else {
            b.append(remote.url());
        }
        task.digest().ifPresent(d -> b.append(' ').append(d));
        remote.mirrors().forEach(m -> b.append(" mirror=").append(m));
        if (task.frequency() != Frequency.PER_INSTANCE) {
            b.append(" frequency=").append(task.frequency().token());
        }
        if (task.retries() != 0) {
            b.append(" retries=").append(task.retries());
        }
        task.timeout().ifPresent(t -> b.append(" timeout=").append(t.getSeconds()).append('s'));
        task.interpreter().ifPresent(i -> b.append(" as=").append(i));
        for (Map.Entry<String, String> e : task.env().entrySet()) {
            if (!e.getValue().isEmpty() && !word(e.getValue())) {
                throw new IllegalArgumentException("env." + e.getKey() + " holds whitespace; it has no line form");
            }
            b.append(" env.").append(e.getKey()).append('=').append(e.getValue());
        }
        task.report().ifPresent(r -> b.append(" report=").append(r));
        if (!task.args().isEmpty()) {
            b.append(" --");
            for (String arg : task.args()) {
                if (!word(arg)) {
                    throw new IllegalArgumentException("argument \"" + arg + "\" is empty or holds whitespace; "
                            + "it has no line form");
                }
                b.append(' ').append(arg);
            }
        }
        return b.toString();
    }

    private static boolean word(String s) {
        return !s.isEmpty() && s.chars().noneMatch(c -> c == ' ' || c == '\t' || c == '\r' || c == '\n');
    }
}
