package dev.whatami.agent.cli;

import dev.whatami.status.StatusCodec;
import dev.whatami.userdata.Problem;
import dev.whatami.userdata.Redact;
import dev.whatami.userdata.Signature;
import dev.whatami.userdata.TaskPlan;
import dev.whatami.userdata.TaskSource;
import dev.whatami.userdata.TaskSpec;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A plan and its problems as a person (text) or a tool (JSON maps) wants to see them. */
final class PlanView {
    private PlanView() {
    }

    static String text(TaskPlan plan) {
        StringBuilder b = new StringBuilder();
        b.append(plan.tasks().size()).append(plan.tasks().size() == 1 ? " task" : " tasks").append(", run in order:\n");
        int i = 1;
        for (TaskSpec t : plan.tasks()) {
            b.append("  ").append(i++).append(". ").append(t.name()).append('\n');
            if (t.source() instanceof TaskSource.Remote r) {
                b.append("     from       ").append(Redact.url(r.url())).append('\n');
                r.mirrors().forEach(m -> b.append("     mirror     ").append(Redact.url(m)).append('\n'));
            } else if (t.source() instanceof TaskSource.Inline in) {
                b.append("     from       the user-data itself (").append(in.size()).append(" bytes)\n");
            }
            b.append("     integrity  ").append(t.digest().map(Object::toString)
                    .orElse(t.source() instanceof TaskSource.Inline ? "carried in the user-data"
                            : "none pinned (add sha256=... to be sure it is the script you meant)")).append('\n');
            t.signature().ifPresent(sig -> b.append("     signature  ").append(sig instanceof Signature.Inline
                    ? "carried in the user-data (sig=)" : "at " + Redact.url(((Signature.Remote) sig).url()))
                    .append('\n'));
            b.append("     frequency  ").append(t.frequency().token())
                    .append(t.retries() > 0 ? ", retried on up to " + t.retries() + " later boots" : "").append('\n');
            if (!t.args().isEmpty()) {
                b.append("     args       ").append(String.join(" ", t.args().stream().map(PlanView::quote).toList()))
                        .append('\n');
            }
            if (!t.env().isEmpty()) {
                b.append("     env        ").append(String.join(" ", t.env().keySet())).append(" (values not shown)\n");
            }
            t.timeout().ifPresent(d -> b.append("     timeout    ").append(d.toString().substring(2).toLowerCase())
                    .append('\n'));
            t.interpreter().ifPresent(x -> b.append("     run with   ").append(x).append('\n'));
            t.report().ifPresent(x -> b.append("     report to  ").append(Redact.url(x)).append('\n'));
        }
        for (Problem w : plan.warnings()) {
            b.append("warning: ").append(w).append('\n');
        }
        return b.toString();
    }

    private static String quote(String arg) {
        return arg.isEmpty() || arg.chars().anyMatch(c -> c == ' ' || c == '\t' || c == '\'' || c == '"')
                ? "'" + arg.replace("'", "'\\''") + "'" : arg;
    }

    static Map<String, Object> json(TaskPlan plan) {
        List<Map<String, Object>> tasks = new ArrayList<>();
        for (TaskSpec t : plan.tasks()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", t.name());
            if (t.source() instanceof TaskSource.Remote r) {
                m.put("url", Redact.url(r.url()));
                m.put("mirrors", r.mirrors().stream().map(Redact::url).toList());
            } else {
                m.put("inlineBytes", ((TaskSource.Inline) t.source()).size());
            }
            t.digest().ifPresent(d -> m.put(d.algorithm().key(), d.hex()));
            m.put("frequency", t.frequency().token());
            m.put("retries", t.retries());
            m.put("args", t.args());
            m.put("env", List.copyOf(t.env().keySet())); // names only: values can be secrets
            t.timeout().ifPresent(d -> m.put("timeoutSeconds", d.getSeconds()));
            t.interpreter().ifPresent(x -> m.put("as", x));
            t.report().ifPresent(x -> m.put("report", Redact.url(x)));
            t.signature().ifPresent(sig -> m.put("signature", sig instanceof Signature.Inline ? "inline"
                    : Redact.url(((Signature.Remote) sig).url())));
            tasks.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("valid", true);
        out.put("tasks", tasks);
        out.put("warnings", problems(plan.warnings()));
        return out;
    }

    /** The problems as the status document spells them. */
    static List<Map<String, Object>> problems(List<Problem> problems) {
        StatusCodec codec = StatusCodec.create();
        return problems.stream().map(codec::toMap).toList();
    }
}
