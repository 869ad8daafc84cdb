package dev.whatami.server;

import dev.whatami.status.ReceivedReport;
import dev.whatami.status.RunState;
import dev.whatami.status.StatusCodec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One page of the fleet view.
 *
 * <p>The reports are held as the bytes {@link StatusCodec} wrote and decoded one at a time as {@link #each()} is
 * iterated, so a page of large reports never holds them all decoded at once.
 *
 * @param kept     the page's reports as stored ({@link StatusCodec#write(ReceivedReport)}), failures first, newest
 *                 first within
 * @param matching how many reports match the query's filters (all pages)
 * @param counts   the whole fleet counted, whatever the filters
 * @param query    the query this answers
 */
public record ReportPage(List<byte[]> kept, long matching, Counts counts, ReportQuery query) {
    private static final StatusCodec CODEC = StatusCodec.create();

    public ReportPage {
        kept = List.copyOf(kept);
        Objects.requireNonNull(counts, "counts");
        Objects.requireNonNull(query, "query");
    }

    /** The page's reports, each decoded when the iteration reaches it. */
    public Iterable<ReceivedReport> each() {
        return () -> new Iterator<>() {
            private final Iterator<byte[]> bytes = kept.iterator();

            @Override
            public boolean hasNext() {
                return bytes.hasNext();
            }

            @Override
            public ReceivedReport next() {
                return CODEC.readReceived(bytes.next());
            }
        };
    }

    /** The page's reports, all decoded: for small pages and tests. */
    public List<ReceivedReport> reports() {
        List<ReceivedReport> out = new ArrayList<>(kept.size());
        each().forEach(out::add);
        return out;
    }

    /**
     * The fleet counted. Each map keeps a fixed order — states failures first, then by token; roles and providers
     * by name — so that the same fleet is the same page and the same {@code /status.json} from every server.
     *
     * @param instances  instances with a report
     * @param byState    instances per run state token, e.g. {@code failed}
     * @param byRole     instances per role
     * @param byProvider instances per provider
     * @param failedByRole failed instances per role (state counted as a failure by {@link Fleet#isFailure})
     */
    public record Counts(long instances, Map<String, Long> byState, Map<String, Long> byRole,
            Map<String, Long> byProvider, Map<String, Long> failedByRole) {
        public Counts {
            // in a fixed order, not Map.copyOf's (which differs from one JVM to the next): every server behind a
            // load balancer writes the same page
            byState = ordered(byState, Comparator.<String>comparingInt(s -> RunState.fromToken(s).map(Fleet::rank)
                    .orElse(0)).thenComparing(Comparator.naturalOrder()));
            byRole = ordered(byRole, Comparator.naturalOrder());
            byProvider = ordered(byProvider, Comparator.naturalOrder());
            failedByRole = ordered(failedByRole, Comparator.naturalOrder());
        }

        private static Map<String, Long> ordered(Map<String, Long> counts, Comparator<String> order) {
            Map<String, Long> copy = new TreeMap<>(order);
            counts.forEach((k, v) -> copy.put(Objects.requireNonNull(k), Objects.requireNonNull(v)));
            return Collections.unmodifiableMap(copy);
        }
    }
}
