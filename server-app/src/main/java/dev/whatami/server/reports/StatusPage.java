package dev.whatami.server.reports;

import dev.whatami.server.pages.Html;
import dev.whatami.status.OutputTail;
import dev.whatami.status.ReceivedReport;
import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import dev.whatami.status.TaskStatus;
import java.io.IOException;
import java.io.Writer;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fleet page: counts by state and by role at the top (each a filter link), then one page of instances, failures
 * first, each with its tasks — state, exit code, message and the last lines of output the agent sent. Everything from
 * a report is untrusted input and is escaped.
 */
final class StatusPage {
    private StatusPage() {
    }

    /** Writes the page to {@code out}, one instance at a time (a page of large reports is never all in memory). */
    static void render(ReportPage page, Writer out) throws IOException {
        ReportPage.Counts c = page.counts();
        ReportQuery q = page.query();
        StringBuilder b = new StringBuilder(16_384);
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta http-equiv=\"refresh\" content=\"10\">")
                .append("<title>whatami: which instance became what</title><style>")
                .append("body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin:0 0 1em}")
                .append("td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}")
                .append("pre{margin:2px 0;font-size:12px;white-space:pre-wrap;max-width:60em}")
                .append(".counts{display:inline-table;margin-right:2em}.num{text-align:right}")
                .append(".done{color:#060}.failed,.invalid,.unreachable,.refused,.not-fetched,.interrupted,.timed-out")
                .append("{color:#a00;font-weight:bold}.running{color:#850}")
                .append("</style></head><body>\n<h1>whatami: which instance became what</h1>\n");
        if (c.instances() == 0) {
            b.append("<p id=\"empty\">No instance has reported yet. Agents report with --report-url ")
                    .append("http://&lt;this server&gt;/reports or report= in their user-data.</p>\n");
            out.append(b.append(footer()));
            return;
        }
        long failed = c.byState().entrySet().stream().filter(e -> RunState.fromToken(e.getKey())
                .map(Fleet::isFailure).orElse(true)).mapToLong(Map.Entry::getValue).sum();
        b.append("<p id=\"summary\"><b>").append(c.instances()).append("</b> instance(s); <b class=\"")
                .append(failed > 0 ? "failed" : "done").append("\">").append(failed).append("</b> failed</p>\n");
        states(b, c);
        roles(b, c);
        b.append("\n");
        filters(b, q);
        if (page.rows().size() == 0) {
            b.append("<p id=\"none\">No instance matches these filters.</p>\n");
        } else {
            b.append("<table id=\"instances\"><thead><tr><th>instance</th><th>provider</th><th>role (tasks)</th>")
                    .append("<th>state</th><th>exit code</th><th>message</th><th>reported</th></tr></thead><tbody>\n");
            for (ReceivedReport r : page.each()) {
                row(b, r);
                out.append(b);
                b.setLength(0);
            }
            b.append("</tbody></table>\n");
        }
        pager(b, page);
        out.append(b.append(footer()));
    }

    private static void states(StringBuilder b, ReportPage.Counts c) {
        b.append("<table class=\"counts\" id=\"by-state\"><thead><tr><th>state</th><th>instances</th></tr></thead>")
                .append("<tbody>\n");
        c.byState().entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByKey((x, y) -> Integer.compare(rank(x), rank(y)))
                        .thenComparing(Map.Entry.comparingByKey()))
                .forEach(e -> b.append("<tr><td class=\"").append(Html.esc(e.getKey())).append("\"><a href=\"")
                        .append(Html.esc(link(Map.of("state", e.getKey())))).append("\">").append(Html.esc(e.getKey()))
                        .append("</a></td><td class=\"num\">").append(e.getValue()).append("</td></tr>\n"));
        b.append("</tbody></table>");
    }

    private static int rank(String state) {
        return RunState.fromToken(state).map(Fleet::rank).orElse(0);
    }

    private static void roles(StringBuilder b, ReportPage.Counts c) {
        b.append("<table class=\"counts\" id=\"by-role\"><thead><tr><th>role</th><th>instances</th><th>failed</th>")
                .append("</tr></thead><tbody>\n");
        c.byRole().entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .limit(50)
                .forEach(e -> {
                    long f = c.failedByRole().getOrDefault(e.getKey(), 0L);
                    b.append("<tr><td><a href=\"").append(Html.esc(link(Map.of("role", e.getKey())))).append("\">")
                            .append(Html.esc(e.getKey())).append("</a></td><td class=\"num\">").append(e.getValue())
                            .append("</td><td class=\"num").append(f > 0 ? " failed" : "").append("\">").append(f)
                            .append("</td></tr>\n");
                });
        if (c.byRole().size() > 50) {
            b.append("<tr><td colspan=\"3\">and ").append(c.byRole().size() - 50).append(" more roles</td></tr>\n");
        }
        b.append("</tbody></table>");
        if (c.byProvider().size() > 1) {
            b.append("<table class=\"counts\" id=\"by-provider\"><thead><tr><th>provider</th><th>instances</th></tr>")
                    .append("</thead><tbody>\n");
            c.byProvider().forEach((p, n) -> b.append("<tr><td><a href=\"").append(Html.esc(link(Map.of("provider", p))))
                    .append("\">").append(Html.esc(p)).append("</a></td><td class=\"num\">").append(n)
                    .append("</td></tr>\n"));
            b.append("</tbody></table>");
        }
    }

    private static void filters(StringBuilder b, ReportQuery q) {
        Map<String, String> f = filterParams(q);
        if (f.isEmpty()) {
            return;
        }
        b.append("<p id=\"filters\">Showing only ");
        String sep = "";
        for (Map.Entry<String, String> e : f.entrySet()) {
            b.append(sep).append(e.getKey()).append(" <b>").append(Html.esc(e.getValue())).append("</b>");
            sep = ", ";
        }
        b.append(" — <a href=\"status\">show all</a></p>\n");
    }

    private static Map<String, String> filterParams(ReportQuery q) {
        Map<String, String> f = new LinkedHashMap<>();
        q.role().ifPresent(v -> f.put("role", v));
        q.state().ifPresent(v -> f.put("state", v.token()));
        q.provider().ifPresent(v -> f.put("provider", v));
        return f;
    }

    private static void row(StringBuilder b, ReceivedReport r) {
        RunStatus s = r.status();
        String state = s.state().token();
        b.append("<tr class=\"instance\"><td>").append(Html.esc(s.instance().map(i -> i.instanceId()).orElse("")))
                .append("</td><td>").append(Html.esc(s.instance().map(i -> i.provider()).orElse(""))).append("</td><td>");
        tasks(b, s.tasks());
        b.append("</td><td class=\"").append(Html.esc(state)).append("\">").append(Html.esc(state)).append("</td><td>")
                .append(s.exitCode().isPresent() ? String.valueOf(s.exitCode().getAsInt()) : "").append("</td><td>")
                .append(Html.esc(s.message().orElse(""))).append("</td><td>").append(r.receivedAt()).append("</td></tr>\n");
    }

    private static void tasks(StringBuilder b, List<TaskStatus> tasks) {
        for (TaskStatus t : tasks) {
            b.append(Html.esc(t.name())).append(": ").append(Html.esc(t.state().token()));
            if (t.exitCode().isPresent()) {
                b.append(" (exit ").append(t.exitCode().getAsInt()).append(")");
            }
            t.message().ifPresent(m -> b.append(" — ").append(Html.esc(m)));
            OutputTail tail = t.tail().orElse(OutputTail.empty());
            if (!tail.stdout().isEmpty()) {
                pre(b, "stdout", tail.stdout());
            }
            if (!tail.stderr().isEmpty()) {
                pre(b, "stderr", tail.stderr());
            }
            b.append("<br>");
        }
    }

    private static void pre(StringBuilder b, String stream, List<String> lines) {
        b.append("<pre class=\"").append(stream).append("\" title=\"last lines of ").append(stream).append("\">");
        for (String l : lines) {
            b.append(Html.esc(l)).append('\n');
        }
        b.append("</pre>");
    }

    private static void pager(StringBuilder b, ReportPage page) {
        ReportQuery q = page.query();
        long pages = ReportHandlers.pages(page);
        long current = q.offset() / q.limit() + 1;
        b.append("<p id=\"pager\">");
        if (current > 1) {
            b.append("<a rel=\"prev\" href=\"").append(Html.esc(pageLink(q, current - 1))).append("\">previous</a> ");
        }
        b.append("page ").append(current).append(" of ").append(pages).append(" (").append(page.matching())
                .append(" matching)");
        if (current < pages) {
            b.append(" <a rel=\"next\" href=\"").append(Html.esc(pageLink(q, current + 1))).append("\">next</a>");
        }
        b.append("</p>\n");
    }

    private static String pageLink(ReportQuery q, long page) {
        Map<String, String> p = filterParams(q);
        p.put("page", String.valueOf(page));
        if (q.limit() != ReportHandlers.DEFAULT_PER_PAGE) {
            p.put("per", String.valueOf(q.limit()));
        }
        return link(p);
    }

    private static String link(Map<String, String> params) {
        StringBuilder b = new StringBuilder("status");
        char sep = '?';
        for (Map.Entry<String, String> e : params.entrySet()) {
            b.append(sep).append(e.getKey()).append('=').append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
            sep = '&';
        }
        return b.toString();
    }

    private static String footer() {
        return "<p><a href=\"status.json\">status.json</a> (the same, paged alike: ?role=&amp;state=&amp;provider=&amp;"
                + "page=&amp;per=)</p></body></html>\n";
    }
}
