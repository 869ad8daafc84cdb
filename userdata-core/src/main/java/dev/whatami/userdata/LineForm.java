package dev.whatami.userdata;

import dev.whatami.userdata.internal.Rules;
import java.util.Map;

/**
 * Writes a {@link TaskSpec} back as one line of user-data, such that {@link UserDataParser} reads it as an
 * equal task. Useful for tools that generate user-data. Stateless and thread-safe.
 */
public final class LineForm {
    private LineForm() {
    }

    /**
     * The task as a line, e.g. {@code collector.pl 192.168.7.77 sha256=… -- fast}: the seed's short form when the URL
     * is {@code http://<server>/scriptserver/<name>}, else the URL. Every {@link TaskSpec} with a URL has a line form
     * (its builder refuses what the grammar cannot carry).
     *
     * @throws IllegalArgumentException when the task carries its script inline: that has no line form
     */
    public static String render(TaskSpec task) {
        if (!(task.source() instanceof TaskSource.Remote remote)) {
            throw new IllegalArgumentException("task " + task.name() + " carries its script inline; only tasks "
                    + "with a URL have a line form");
        }
        StringBuilder b = new StringBuilder();
        String server = task.server().orElse(null);
        boolean seedForm = server != null && Rules.server(server).isEmpty()
                && remote.url().toString().equals("http://" + server + "/scriptserver/" + task.name());
        if (seedForm) {
            b.append(task.name()).append(' ').append(server);
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
        task.timeout().ifPresent(t -> b.append(" timeout=").append(Rules.timeoutWord(t)));
        task.interpreter().ifPresent(i -> b.append(" as=").append(i));
        for (Map.Entry<String, String> e : task.env().entrySet()) {
            b.append(" env.").append(e.getKey()).append('=').append(e.getValue());
        }
        task.report().ifPresent(r -> b.append(" report=").append(r));
        task.signature().ifPresent(sig -> b.append(" sig=").append(sig instanceof Signature.Inline in ? in.base64()
                : ((Signature.Remote) sig).url()));
        if (!task.args().isEmpty()) {
            b.append(" --");
            task.args().forEach(arg -> b.append(' ').append(arg));
        }
        return b.toString();
    }
}
