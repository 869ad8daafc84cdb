package dev.whatami.server.reports;

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
 * <p>The reports are held as the bytes {@link StatusCodec} wrote, read from the store as {@link #each()} is iterated
 * and decoded one at a time: a page of large reports is never in memory at once, whatever the store (the database's
 * {@link Rows} fetch a few at a time).
 *
 * @param rows     the page's reports as stored ({@link StatusCodec#write(ReceivedReport)}), failures first, newest
 *                 first within
 * @param matching how many reports match the query's filters (all pages)
 * @param counts   the whole fleet counted, whatever the filters
 * @param query    the query this answers
 */
public record ReportPage(Rows rows, long matching, Counts counts, ReportQuery query) {
    private static final StatusCodec CODEC = StatusCodec.create();

    /**
     * A page's reports as stored, in page order, each read when the iteration reaches it. An iteration may fail
     * with {@link java.io.UncheckedIOException} when the store cannot be read any more; a report forgotten since the
     * page was counted is left out.
     */
    public interface Rows extends Iterable<byte[]> {
        /** How many reports the page had when it was counted. */
        int size();

        /** Rows already in memory. */
        static Rows of(List<byte[]> kept) {
            List<byte[]> copy = List.copyOf(kept);
            return new Rows() {
                @Override
                public int size() {
                    return copy.size();
                }

                @Override
                public Iterator<byte[]> iterator() {
                    return copy.iterator();
                }
            };
        }
    }

    public ReportPage {
        Objects.requireNonNull(rows, "rows");
        Objects.requireNonNull(counts, "counts");
        Objects.requireNonNull(query, "query");
    }

    /** A page whose reports are in memory. */
    public ReportPage(List<byte[]> kept, long matching, Counts counts, ReportQuery query) {
        this(Rows.of(kept), matching, counts, query);
    }

    /** The page's reports as stored, all read into memory: for small pages and tests. */
    public List<byte[]> kept() {
        List<byte[]> out = new ArrayList<>(rows.size());
        rows.forEach(out::add);
        return out;
    }

    /** The page's reports, each read and decoded when the iteration reaches it. */
    public Iterable<ReceivedReport> each() {
        return () -> new Iterator<>() {
            private final Iterator<byte[]> bytes = rows.iterator();

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
        List<ReceivedReport> out = new ArrayList<>(rows.size());
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
