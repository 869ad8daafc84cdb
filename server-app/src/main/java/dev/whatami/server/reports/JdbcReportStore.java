package dev.whatami.server.reports;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.whatami.status.InstanceInfo;
import dev.whatami.status.ReceivedReport;
import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import dev.whatami.status.StatusCodec;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shared report store: the latest report of each instance in PostgreSQL, so that several servers behind a load
 * balancer accept reports and show the same fleet page. The same contract as the {@link EmbeddedReportStore}, by the
 * same rules: {@link Reports} decides what is a duplicate or stale and what is too large, {@link Fleet} what an
 * instance's role and rank are and how the fleet is counted, {@link ReportLimits} how much is kept; the row keeps the
 * bytes {@link StatusCodec} wrote, and the columns beside it are derived from them by those rules.
 *
 * <p>Reports are kept by {@link Builder#writers} writer threads with group commit: a writer takes the reports
 * waiting (up to {@link Builder#maxBatch}, one per instance) and keeps them in one transaction. It first locks their
 * instances' rows ({@code SELECT … FOR UPDATE}, in instance order) and creates new instances' rows (in instance order
 * too, so two writers never wait for each other in a circle), so two servers given the same report take turns and the
 * second sees a duplicate; then, last, it adds what it changed to the one row of {@code whatami_totals} and commits —
 * that row's lock makes the writers of every server take turns only for that update and the commit, so the limits
 * hold across servers while reports of different instances are written side by side. Each report gets its own verdict;
 * a transaction that fails as a whole is tried again report by report. Eviction, under the totals' lock, skips rows
 * another writer holds. A page's counts and keys are read in one read-only snapshot, so they agree; its reports
 * are then fetched a few at a time while the page is written (a report replaced meanwhile shows its newer version, one
 * forgotten meanwhile is left out), so a page of large reports is never in memory at once. The order is the embedded
 * store's —
 * failures first, newest first, then by id — with ids compared by code point ({@code COLLATE "C"}; Java's order
 * differs only for ids with characters beyond U+FFFF).
 *
 * <p>Connections come from a HikariCP pool that replaces broken ones, so the store outlives a database restart. While
 * the database cannot be reached, {@link #accept} and {@link #page} throw {@link IOException} within about twice
 * {@link Builder#connectionTimeout} (the server answers 503 and the agent retries); the reports waiting behind a
 * batch that found the database unreachable fail with it. A statement that fails on a
 * broken connection is tried once more on a fresh one (safe: accepting the same report twice is a duplicate).
 * Thread-safe; {@link #close()} keeps the reports that wait, then closes the pool.
 */
public final class JdbcReportStore implements ReportStore {
    private static final Logger LOG = LoggerFactory.getLogger(JdbcReportStore.class);
    private static final String COLUMNS = "instance_id, run_id, revision, started_at, received_at, provider, role, "
            + "state, rank, kept_seq, bytes, body, key_sha256";
    private static final String PAGE_ORDER = " ORDER BY rank, received_at DESC, instance_id";

    private final StatusCodec codec = StatusCodec.create();
    private final HikariDataSource pool;
    private final Clock clock;
    private final ReportLimits limits;
    private final EvictionLog evictionLog = new EvictionLog(LOG);
    private final java.util.concurrent.BlockingQueue<Pending> queue = new java.util.concurrent.LinkedBlockingQueue<>();
    private final List<Thread> writers = new ArrayList<>();
    private final int maxBatch;
    private final Duration answerWait;
    private final java.util.concurrent.atomic.AtomicLong batches = new java.util.concurrent.atomic.AtomicLong();
    private volatile boolean closed;

    private JdbcReportStore(Builder b) throws IOException {
        this.clock = b.clock;
        this.limits = b.limits;
        this.maxBatch = b.maxBatch;
        // a report waits for the batch before it (its statements) and its own: a connection and a few statements each
        this.answerWait = b.connectionTimeout.multipliedBy(2).plus(b.statementTimeout.multipliedBy(4));
        HikariConfig hc = new HikariConfig();
        hc.setPoolName("whatami-reports");
        hc.setDriverClassName("org.postgresql.Driver");
        hc.setJdbcUrl(b.url);
        b.user.ifPresent(hc::setUsername);
        b.password.ifPresent(hc::setPassword);
        hc.setMaximumPoolSize(b.poolSize);
        hc.setMinimumIdle(Math.min(2, b.poolSize));
        hc.setConnectionTimeout(b.connectionTimeout.toMillis());
        hc.setValidationTimeout(Math.max(250, Math.min(1000, b.connectionTimeout.toMillis() / 2)));
        hc.setInitializationFailTimeout(-1); // the schema check below says what is wrong, in our words
        long connectSeconds = Math.max(1, b.connectionTimeout.toSeconds());
        hc.addDataSourceProperty("connectTimeout", connectSeconds);
        hc.addDataSourceProperty("socketTimeout", Math.max(1, b.statementTimeout.toSeconds()));
        hc.addDataSourceProperty("tcpKeepAlive", true);
        hc.addDataSourceProperty("ApplicationName", "whatami-server");
        this.pool = new HikariDataSource(hc);
        try (Connection c = firstConnection()) {
            ReportSchema.migrate(c);
            recount(c);
        } catch (SQLException e) {
            pool.close();
            throw new IOException("cannot use the database " + describe(b.url) + ": " + message(e), e);
        }
        for (int i = 0; i < Math.min(b.writers, b.poolSize); i++) {
            Thread t = new Thread(this::writeLoop, "whatami-report-writer-" + i);
            t.setDaemon(true);
            writers.add(t);
            t.start();
        }
    }

    /** How long the first connection may take when the database answers slowly (a loaded machine), not wrongly. */
    static final Duration STARTUP_PATIENCE = Duration.ofSeconds(15);

    /**
     * The pool's first connection. A timeout with no failure under it (the pool was only slow: a busy machine, a
     * database still starting) is waited out up to {@link #STARTUP_PATIENCE}; a refusal (wrong password, no such
     * database, connection refused) is reported at once.
     */
    private Connection firstConnection() throws SQLException {
        long deadline = System.nanoTime() + STARTUP_PATIENCE.toNanos();
        while (true) {
            try {
                return pool.getConnection();
            } catch (java.sql.SQLTransientConnectionException e) {
                if (e.getCause() != null || System.nanoTime() > deadline) {
                    throw e;
                }
                LOG.debug("report store: the database is slow to give a first connection; waiting");
            }
        }
    }

    /** A builder for the store at {@code jdbcUrl} ({@code jdbc:postgresql://host:port/database}). */
    public static Builder builder(String jdbcUrl) {
        return new Builder(jdbcUrl);
    }

    @Override
    public Accepted accept(byte[] body, String from, Optional<String> instanceKey) throws InvalidReportException,
            IOException {
        RunStatus status = Reports.parse(codec, body, clock.instant());
        Pending p = new Pending(status, from, instanceKey);
        if (closed) {
            throw new IOException("the report store is closed");
        }
        queue.add(p);
        if (closed && queue.remove(p)) {
            throw new IOException("the report store is closed"); // closed meanwhile: no writer will take it
        }
        try {
            return p.done.get(answerWait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof InvalidReportException invalid) {
                throw invalid;
            }
            if (cause instanceof IOException io) {
                throw new IOException(io.getMessage(), io);
            }
            throw new IOException("the database did not keep the report: " + message(cause), cause);
        } catch (TimeoutException e) {
            queue.remove(p); // not written later for a caller who has gone (if no writer has it yet)
            throw new IOException("the database did not keep the report within " + answerWait.toSeconds() + " s");
        } catch (InterruptedException e) {
            queue.remove(p);
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while the database kept the report", e);
        }
    }

    /** A report parsed and waiting for a writer; {@link #done} completes with its verdict or its failure. */
    private static final class Pending {
        final RunStatus status;
        final String id;
        final String from;
        final Optional<String> instanceKey;
        final CompletableFuture<Accepted> done = new CompletableFuture<>();
        /** Times another server created this instance between this store's look and its insert. */
        int raced;

        Pending(RunStatus status, String from, Optional<String> instanceKey) {
            this.status = status;
            this.id = status.instance().orElseThrow().instanceId();
            this.from = from;
            this.instanceKey = instanceKey;
        }
    }

    /**
     * A writer: takes what reports are waiting (up to {@link Builder#maxBatch}, one per instance) and keeps them in
     * one transaction — group commit: under load many reports share one round of statements and one commit, and a
     * report arriving alone is written alone, at once.
     */
    private void writeLoop() {
        java.util.ArrayDeque<Pending> later = new java.util.ArrayDeque<>();
        while (!closed || !queue.isEmpty() || !later.isEmpty()) {
            List<Pending> taken = new ArrayList<>();
            try {
                if (later.isEmpty()) {
                    Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
                    if (first == null) {
                        continue;
                    }
                    taken.add(first);
                }
                // one report per instance in a batch: a second one waits for the next, so it is compared with the
                // first
                java.util.Set<String> ids = new java.util.HashSet<>();
                List<Pending> batch = new ArrayList<>();
                java.util.ArrayDeque<Pending> next = new java.util.ArrayDeque<>();
                while (!later.isEmpty()) {
                    taken.add(later.poll());
                }
                queue.drainTo(taken, Math.max(0, maxBatch - taken.size()));
                for (Pending p : taken) {
                    if (batch.size() < maxBatch && ids.add(p.id)) {
                        batch.add(p);
                    } else {
                        next.add(p);
                    }
                }
                later.addAll(next);
                writeBatch(batch).forEach(later::addFirst);
            } catch (InterruptedException e) {
                // nobody but the JVM interrupts a writer; it stops only when the store closes, after what waits
                continue;
            } catch (RuntimeException | Error e) {
                // never a writer lost with reports in its hands: those it took fail, the rest are written after
                LOG.warn("report store: a writer failed ({}); the reports it held are refused", e.toString());
                for (Pending p : taken) {
                    p.done.completeExceptionally(e);
                }
                later.removeIf(p -> p.done.isDone());
            }
        }
    }

    /**
     * Keeps {@code batch} (distinct instances) in one transaction and completes each report's verdict; returns the
     * reports to try again (another server created their instance meanwhile). When the transaction fails as a whole,
     * each report is tried alone, so one report's failure is its own.
     */
    private List<Pending> writeBatch(List<Pending> batch) {
        try {
            Outcome out = retried(() -> store(batch));
            batches.incrementAndGet(); // before any verdict: whoever has one sees the transaction counted
            for (int i = 0; i < batch.size(); i++) {
                Object o = out.verdicts[i];
                if (o instanceof Accepted a) {
                    batch.get(i).done.complete(a);
                } else if (o instanceof InvalidReportException e) {
                    batch.get(i).done.completeExceptionally(e);
                }
            }
            evictionLog.forgot(out.forgotten, limits);
            return out.raced;
        } catch (SQLException | InvalidReportException e) {
            if (batch.size() == 1 || e instanceof java.sql.SQLTransientConnectionException
                    || e instanceof SQLException q && isConnectionFault(q)) {
                // the database cannot be reached: every report of the batch, and every one waiting behind it, fails
                // alike, at once (each batch of them in turn would wait for the connection timeout again)
                List<Pending> failing = new ArrayList<>(batch);
                queue.drainTo(failing);
                for (Pending p : failing) {
                    p.done.completeExceptionally(new IOException("the database did not keep the report: "
                            + message(e), e));
                }
                return List.of();
            }
            LOG.debug("report store: a batch of {} failed ({}); keeping each alone", batch.size(), message(e));
            List<Pending> raced = new ArrayList<>();
            for (Pending p : batch) {
                raced.addAll(writeBatch(List.of(p)));
            }
            return raced;
        }
    }

    /** What one transaction did: per report an {@link Accepted} or an {@link InvalidReportException}, or null. */
    private record Outcome(Object[] verdicts, List<Pending> raced, int forgotten) {
    }

    /** A report's row as kept, read under its lock. */
    private record Kept(Optional<String> run, long revision, Optional<Instant> start, int bytes, RunState state,
            Optional<byte[]> key) {
    }

    private Outcome store(List<Pending> batch) throws SQLException {
        Object[] verdicts = new Object[batch.size()];
        List<Pending> raced = new ArrayList<>();
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            try {
                // first the instances' rows, locked as they are kept, in one order for every writer (so two writers
                // never wait for each other in a circle); a writer of the same instance on another server waits, and
                // then sees this one's report
                java.util.Map<String, Kept> kept = new java.util.HashMap<>();
                try (PreparedStatement p = planned(c, "SELECT instance_id, run_id, revision, started_at, "
                        + "bytes, state, key_sha256 FROM whatami_reports WHERE instance_id = ANY (?) "
                        + "ORDER BY instance_id COLLATE \"C\" FOR UPDATE")) {
                    p.setArray(1, c.createArrayOf("text", batch.stream().map(q -> q.id).toArray()));
                    try (ResultSet r = p.executeQuery()) {
                        while (r.next()) {
                            kept.put(r.getString(1), new Kept(Optional.ofNullable(r.getString(2)), r.getLong(3),
                                    Optional.ofNullable(r.getObject(4, OffsetDateTime.class))
                                            .map(OffsetDateTime::toInstant),
                                    r.getInt(5), state(r.getString(6)), Optional.ofNullable(r.getBytes(7))));
                        }
                    }
                }
                List<Integer> updates = new ArrayList<>();
                List<Integer> inserts = new ArrayList<>();
                ReceivedReport[] received = new ReceivedReport[batch.size()];
                byte[][] stored = new byte[batch.size()][];
                List<Optional<byte[]>> hashes = new ArrayList<>();
                for (int i = 0; i < batch.size(); i++) {
                    Pending q = batch.get(i);
                    Kept k = kept.get(q.id);
                    hashes.add(Optional.empty());
                    try {
                        hashes.set(i, Reports.bind(q.id, k == null ? Optional.empty() : k.key(), q.instanceKey));
                        Accepted verdict = k == null
                                ? Reports.compare(null, 0, Optional.empty(), null, q.status)
                                : Reports.compare(k.run(), k.revision(), k.start(), k.state(), q.status);
                        if (verdict != Accepted.STORED) {
                            verdicts[i] = verdict;
                            continue;
                        }
                        // PostgreSQL keeps microseconds: the report says what the column holds
                        received[i] = new ReceivedReport(q.status, clock.instant().truncatedTo(ChronoUnit.MICROS),
                                q.from);
                        stored[i] = codec.write(received[i]);
                        Reports.checkSize(stored[i].length, limits);
                        (k == null ? inserts : updates).add(i);
                    } catch (InvalidReportException e) {
                        verdicts[i] = e;
                    }
                }
                // kept in the batch's order (what "least recently kept" means for reports kept together), whatever
                // order the rows are written in
                long[] seq = keptSeq(c, updates.size() + inserts.size(), batch.size(), updates, inserts);
                // new instances created in one order for every writer of every server: an insert waits for another
                // transaction's insert of the same instance, so two batches inserting in different orders deadlock
                inserts.sort(java.util.Comparator.comparing(i -> batch.get(i).id));
                long created = 0;
                long grown = 0;
                String newest = null;
                long newestSeq = Long.MIN_VALUE;
                if (!updates.isEmpty()) {
                    write(c, updates, received, stored, hashes, seq, UPDATE);
                    for (int i : updates) {
                        verdicts[i] = Accepted.STORED;
                        grown += stored[i].length - kept.get(batch.get(i).id).bytes();
                        if (seq[i] > newestSeq) {
                            newestSeq = seq[i];
                            newest = batch.get(i).id;
                        }
                    }
                }
                if (!inserts.isEmpty()) {
                    int[] counts = write(c, inserts, received, stored, hashes, seq, INSERT);
                    for (int j = 0; j < counts.length; j++) {
                        int i = inserts.get(j);
                        if (counts[j] == 1) {
                            verdicts[i] = Accepted.STORED;
                            created++;
                            grown += stored[i].length;
                            if (seq[i] > newestSeq) {
                                newestSeq = seq[i];
                                newest = batch.get(i).id;
                            }
                        } else {
                            // another server created it since the SELECT (and has committed): compare with its
                            // report, in the next transaction
                            Pending q = batch.get(i);
                            if (++q.raced >= 3) {
                                throw new SQLException("the instance " + q.id + " was created and forgotten again "
                                        + "three times while this report was kept", "40001");
                            }
                            raced.add(q);
                        }
                    }
                }
                int forgotten = 0;
                if (created != 0 || grown != 0) {
                    // then the totals, last and briefly: their row lock orders the writers of every server only for
                    // this update and the commit, so the limits hold across servers without making every report
                    // wait for the whole of every other
                    long instances;
                    long bytes;
                    try (PreparedStatement p = c.prepareStatement("UPDATE whatami_totals SET instances = instances + ?, "
                            + "bytes = bytes + ? WHERE id = 1 RETURNING instances, bytes")) {
                        p.setLong(1, created);
                        p.setLong(2, grown);
                        try (ResultSet r = p.executeQuery()) {
                            r.next();
                            instances = r.getLong(1);
                            bytes = r.getLong(2);
                        }
                    }
                    if (instances > limits.maxInstances() || bytes > limits.maxTotalBytes()) {
                        long[] left = {instances, bytes};
                        forgotten = evict(c, newest, left);
                        try (PreparedStatement p = c.prepareStatement("UPDATE whatami_totals SET instances = ?, "
                                + "bytes = ? WHERE id = 1")) {
                            p.setLong(1, left[0]);
                            p.setLong(2, left[1]);
                            p.executeUpdate();
                        }
                    }
                }
                c.commit();
                return new Outcome(verdicts, raced, forgotten);
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c);
                for (Pending q : raced) {
                    q.raced--; // counted again when the batch is tried again
                }
                throw e;
            }
        }
    }

    /**
     * Forgets the least recently kept instances other than {@code newest} (the batch's last report kept; the batch's
     * earlier ones may go, as they would if kept one after the other) until {@code left} (instances, bytes; updated)
     * is within the limits, holding the totals' lock. Rows another writer holds are skipped (that
     * writer is refreshing them, and waits for the totals to count itself); whoever commits last finds the fleet over
     * the limit no more.
     */
    private int evict(Connection c, String newest, long[] left) throws SQLException {
        int forgotten = 0;
        while (left[0] > limits.maxInstances() || left[1] > limits.maxTotalBytes()) {
            List<String> victims = new ArrayList<>();
            try (PreparedStatement p = planned(c, "SELECT instance_id, bytes FROM whatami_reports "
                    + "WHERE instance_id <> ? ORDER BY kept_seq LIMIT 64 FOR UPDATE SKIP LOCKED")) {
                p.setString(1, newest);
                try (ResultSet r = p.executeQuery()) {
                    while (r.next() && (left[0] > limits.maxInstances() || left[1] > limits.maxTotalBytes())) {
                        victims.add(r.getString(1));
                        left[0]--;
                        left[1] -= r.getInt(2);
                    }
                }
            }
            if (victims.isEmpty()) {
                break; // only the newest report is left (it fits: checkSize), or the rest are being written
            }
            try (PreparedStatement p = planned(c, "DELETE FROM whatami_reports WHERE instance_id = ANY (?)")) {
                p.setArray(1, c.createArrayOf("text", victims.toArray()));
                p.executeUpdate();
            }
            forgotten += victims.size();
        }
        return forgotten;
    }

    /**
     * {@code sql} prepared to be planned by PostgreSQL each time it runs, for the table as it is then and the ids
     * given: for the statements that find rows by a list of ids or read them in order. A plan PostgreSQL caches for a
     * prepared statement (pgjdbc prepares one on the server from a statement's fifth use) can outlive the table it
     * was made for: one made while a new fleet's table was small scans all of it, and was measured still in use at
     * 100,000 instances (the batch's lock query at 30-40 ms instead of well under 1). Planning a batch's statement
     * costs little; the one-row statements, planned once for a unique index, keep their cached plans.
     */
    private static PreparedStatement planned(Connection c, String sql) throws SQLException {
        PreparedStatement p = c.prepareStatement(sql);
        p.unwrap(org.postgresql.PGStatement.class).setPrepareThreshold(0);
        return p;
    }

    /** A kept instance's row replaced (locked by this transaction: it exists), in the columns' order, then its id. */
    private static final String UPDATE = "UPDATE whatami_reports SET (" + COLUMNS + ") = (?, ?, ?, ?, ?, ?, ?, ?, ?, "
            + "?, ?, ?, ?) WHERE instance_id = ?";

    /** A new instance's row, unless another server created it meanwhile (then nothing is written: count 0). */
    private static final String INSERT = "INSERT INTO whatami_reports (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, "
            + "?, ?, ?, ?, ?, ?) ON CONFLICT (instance_id) DO NOTHING";

    /** {@code n} values of the kept sequence, ascending, given to the reports {@code updates} and {@code inserts}
     * in the batch's order (indexed as the batch, of length {@code size}). */
    private static long[] keptSeq(Connection c, int n, int size, List<Integer> updates, List<Integer> inserts)
            throws SQLException {
        long[] seq = new long[size];
        if (n == 0) {
            return seq;
        }
        long[] values = new long[n];
        try (PreparedStatement p = c.prepareStatement("SELECT nextval('whatami_reports_kept_seq') FROM "
                + "generate_series(1, ?)")) {
            p.setInt(1, n);
            try (ResultSet r = p.executeQuery()) {
                for (int j = 0; r.next(); j++) {
                    values[j] = r.getLong(1);
                }
            }
        }
        java.util.Arrays.sort(values);
        List<Integer> all = new ArrayList<>(updates);
        all.addAll(inserts);
        java.util.Collections.sort(all);
        for (int j = 0; j < n; j++) {
            seq[all.get(j)] = values[j];
        }
        return seq;
    }

    /**
     * Writes the rows {@code which} by {@link #UPDATE} or {@link #INSERT} in one batch of statements; each one's count
     * of rows written (1, or 0).
     */
    private static int[] write(Connection c, List<Integer> which, ReceivedReport[] received, byte[][] stored,
            List<Optional<byte[]>> hashes, long[] seq, String sql) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(sql)) {
            for (int n : which) {
                RunStatus s = received[n].status();
                InstanceInfo i = s.instance().orElseThrow();
                p.setString(1, i.instanceId());
                p.setString(2, s.runId().orElse(null));
                p.setLong(3, s.revision());
                // truncated here: PostgreSQL would round, and a start rounded up makes the agent's next report "stale"
                p.setObject(4, s.startedAt().map(t -> utc(t.truncatedTo(ChronoUnit.MICROS))).orElse(null));
                p.setObject(5, utc(received[n].receivedAt()));
                p.setString(6, i.provider());
                p.setString(7, Fleet.role(s));
                p.setString(8, s.state().token());
                p.setInt(9, Fleet.rank(s.state()));
                p.setLong(10, seq[n]);
                p.setInt(11, stored[n].length);
                p.setBytes(12, stored[n]);
                p.setBytes(13, hashes.get(n).orElse(null));
                if (sql.startsWith("UPDATE")) { // then the row's id, for WHERE
                    p.setString(14, i.instanceId());
                }
                p.addBatch();
            }
            return p.executeBatch();
        }
    }

    private static OffsetDateTime utc(Instant i) {
        return i.atOffset(ZoneOffset.UTC);
    }

    @Override
    public ReportPage page(ReportQuery query) throws IOException {
        try {
            return retried(() -> read(query));
        } catch (InvalidReportException e) {
            throw new IllegalStateException(e); // never: reading refuses no report
        } catch (SQLException e) {
            throw new IOException("the database did not answer: " + message(e), e);
        }
    }

    private ReportPage read(ReportQuery query) throws SQLException {
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            c.setReadOnly(true);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            try {
                Fleet.Counter counter = new Fleet.Counter();
                try (PreparedStatement p = c.prepareStatement("SELECT state, role, provider, count(*) FROM "
                        + "whatami_reports GROUP BY state, role, provider"); ResultSet r = p.executeQuery()) {
                    while (r.next()) {
                        counter.add(state(r.getString(1)), r.getString(2), r.getString(3), r.getLong(4));
                    }
                }
                List<Object> args = new ArrayList<>();
                String where = where(query, args);
                long matching;
                try (PreparedStatement p = c.prepareStatement("SELECT count(*) FROM whatami_reports" + where)) {
                    bind(p, args);
                    try (ResultSet r = p.executeQuery()) {
                        r.next();
                        matching = r.getLong(1);
                    }
                }
                // the page's keys in the snapshot; their bodies are fetched a few at a time as the page is written
                List<String> keys = new ArrayList<>();
                if (query.limit() > 0 && query.offset() < matching) {
                    try (PreparedStatement p = planned(c, "SELECT instance_id FROM whatami_reports" + where
                            + PAGE_ORDER + " LIMIT ? OFFSET ?")) {
                        args.add((long) query.limit());
                        args.add((long) query.offset());
                        bind(p, args);
                        p.setFetchSize(1000);
                        try (ResultSet r = p.executeQuery()) {
                            while (r.next()) {
                                keys.add(r.getString(1));
                            }
                        }
                    }
                }
                c.commit();
                return new ReportPage(new Bodies(keys), matching, counter.counts(), query);
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            } finally {
                c.setReadOnly(false);
            }
        }
    }

    /** The filters of {@link ReportQuery#matches} as SQL, their values appended to {@code args}. */
    private static String where(ReportQuery q, List<Object> args) {
        List<String> terms = new ArrayList<>();
        q.role().ifPresent(v -> {
            terms.add("role = ?");
            args.add(v);
        });
        q.state().ifPresent(v -> {
            terms.add("state = ?");
            args.add(v.token());
        });
        q.provider().ifPresent(v -> {
            terms.add("provider = ?");
            args.add(v);
        });
        return terms.isEmpty() ? "" : " WHERE " + String.join(" AND ", terms);
    }

    private static void bind(PreparedStatement p, List<Object> args) throws SQLException {
        for (int i = 0; i < args.size(); i++) {
            p.setObject(i + 1, args.get(i));
        }
    }

    private static RunState state(String token) throws SQLException {
        return RunState.fromToken(token).orElseThrow(() -> new SQLException("whatami_reports holds the unknown state "
                + "'" + token + "' (written by a newer server?)"));
    }

    /** Counts what is kept afresh, so an operator's deletes by hand do not leave the totals wrong. */
    private static void recount(Connection c) throws SQLException {
        c.setAutoCommit(false);
        try (PreparedStatement p = c.prepareStatement("UPDATE whatami_totals SET (instances, bytes) = (SELECT count(*), "
                + "coalesce(sum(bytes), 0) FROM whatami_reports) WHERE id = 1")) {
            p.executeUpdate();
            c.commit();
        } catch (SQLException e) {
            rollbackQuietly(c);
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    @Override
    public ReportLimits limits() {
        return limits;
    }

    /** Transactions that kept reports so far (a report alone is one; reports arriving together share one). */
    long batches() {
        return batches.get();
    }

    /** Reports waiting for a writer now. */
    int waiting() {
        return queue.size();
    }

    /** Whether {@link #close} has begun: every report given from then on is refused. */
    boolean closing() {
        return closed;
    }

    /** One of the store's own connections, for a test to look at its session (close it to give it back). */
    Connection connection() throws SQLException {
        return pool.getConnection();
    }

    /** Keeps what is already waiting, then closes the pool; a report given after this is refused. */
    @Override
    public void close() {
        closed = true;
        long deadline = System.nanoTime() + answerWait.toNanos();
        for (Thread t : writers) {
            try {
                t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (Pending p; (p = queue.poll()) != null; ) {
            p.done.completeExceptionally(new IOException("the report store closed before it kept the report"));
        }
        pool.close();
    }

    private interface Work<T> {
        T run() throws SQLException, InvalidReportException;
    }

    /** Reports fetched per query while a page is written: at most this many bodies are in memory for one page. */
    static final int PAGE_BATCH = 16;

    /**
     * A page's reports by key, fetched {@link #PAGE_BATCH} at a time (each batch on a connection taken and given back
     * at once, so a slow reader holds no connection); an instance forgotten since the page was counted is left out.
     */
    private final class Bodies implements ReportPage.Rows {
        private final List<String> keys;

        Bodies(List<String> keys) {
            this.keys = List.copyOf(keys);
        }

        @Override
        public int size() {
            return keys.size();
        }

        @Override
        public java.util.Iterator<byte[]> iterator() {
            return new java.util.Iterator<>() {
                private int next;
                private final java.util.ArrayDeque<byte[]> batch = new java.util.ArrayDeque<>();

                @Override
                public boolean hasNext() {
                    while (batch.isEmpty() && next < keys.size()) {
                        List<String> ids = keys.subList(next, Math.min(keys.size(), next + PAGE_BATCH));
                        next += ids.size();
                        batch.addAll(fetch(ids));
                    }
                    return !batch.isEmpty();
                }

                @Override
                public byte[] next() {
                    if (!hasNext()) {
                        throw new java.util.NoSuchElementException();
                    }
                    return batch.removeFirst();
                }
            };
        }

        private List<byte[]> fetch(List<String> ids) {
            try {
                return retried(() -> {
                    java.util.Map<String, byte[]> found = new java.util.HashMap<>();
                    try (Connection c = pool.getConnection(); PreparedStatement p = planned(c,
                            "SELECT instance_id, body FROM whatami_reports WHERE instance_id = ANY(?)")) {
                        p.setArray(1, c.createArrayOf("text", ids.toArray()));
                        try (ResultSet r = p.executeQuery()) {
                            while (r.next()) {
                                found.put(r.getString(1), r.getBytes(2));
                            }
                        }
                    }
                    List<byte[]> inOrder = new ArrayList<>(ids.size());
                    for (String id : ids) {
                        byte[] body = found.get(id);
                        if (body != null) {
                            inOrder.add(body);
                        }
                    }
                    return inOrder;
                });
            } catch (InvalidReportException e) {
                throw new IllegalStateException(e); // never: reading refuses no report
            } catch (SQLException e) {
                throw new java.io.UncheckedIOException(new IOException("the database did not answer: " + message(e), e));
            }
        }
    }

    /** Runs {@code work}, once more if a connection broke under it (the database restarted, say). */
    private static <T> T retried(Work<T> work) throws SQLException, InvalidReportException {
        try {
            return work.run();
        } catch (SQLException e) {
            if (!isConnectionFault(e)) {
                throw e;
            }
            LOG.debug("report store: retrying on a fresh connection after {}", e.toString());
            return work.run();
        }
    }

    /** SQLSTATE class 08 (connection exception), or 57P01-03 (the server is shutting down or starting). */
    static boolean isConnectionFault(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null
                    && (s.getSQLState().startsWith("08") || s.getSQLState().startsWith("57P0"))) {
                return true;
            }
        }
        return false;
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; the pool replaces it
        }
    }

    /** The database's own words: the innermost SQL failure's message (the pool's wraps the driver's). */
    static String message(Throwable e) {
        String out = e.getMessage();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException && t.getMessage() != null) {
                out = t.getMessage();
            }
        }
        return out == null ? e.getClass().getSimpleName() : out;
    }

    /** The URL as it may be shown: host, port and database, never its parameters (which may hold secrets). */
    public static String describe(String jdbcUrl) {
        int q = jdbcUrl.indexOf('?');
        return q < 0 ? jdbcUrl : jdbcUrl.substring(0, q) + "?…";
    }

    /** Most reports kept in one transaction, unless {@link Builder#maxBatch} says otherwise. */
    public static final int DEFAULT_MAX_BATCH = 64;

    /** The largest {@link Builder#maxBatch}. */
    public static final int MAX_BATCH = 10_000;

    /** Builds a {@link JdbcReportStore}. Not thread-safe. */
    public static final class Builder {
        private final String url;
        private Optional<String> user = Optional.empty();
        private Optional<String> password = Optional.empty();
        private Clock clock = Clock.systemUTC();
        private ReportLimits limits = ReportLimits.databaseDefaults();
        private int poolSize = 8;
        private Duration connectionTimeout = Duration.ofSeconds(2);
        private Duration statementTimeout = Duration.ofSeconds(30);
        private int writers = 2;
        private int maxBatch = DEFAULT_MAX_BATCH;

        private Builder(String url) {
            this.url = checkUrl(url);
        }

        /**
         * A PostgreSQL JDBC URL without credentials: {@code jdbc:postgresql://host[:port]/database[?param=value…]}.
         *
         * @throws IllegalArgumentException for another kind of URL, or one with a password in it
         */
        static String checkUrl(String url) {
            Objects.requireNonNull(url, "url");
            if (!url.startsWith("jdbc:postgresql://")) {
                throw new IllegalArgumentException("--database takes a PostgreSQL JDBC URL, "
                        + "jdbc:postgresql://host:5432/database; got one that does not start with jdbc:postgresql://");
            }
            String lower = url.toLowerCase(java.util.Locale.ROOT);
            int q = lower.indexOf('?');
            String query = q < 0 ? "" : lower.substring(q + 1);
            for (String param : query.split("&")) {
                String key = param.contains("=") ? param.substring(0, param.indexOf('=')) : param;
                if (key.equals("password") || key.equals("sslpassword")) {
                    throw new IllegalArgumentException("--database must not carry credentials (its " + key
                            + "= would be visible to every user of this machine in the process list): give the user "
                            + "with --database-user or $WHATAMI_DATABASE_USER, the password in "
                            + "$WHATAMI_DATABASE_PASSWORD or a file named by --database-password-file");
                }
            }
            String authority = lower.substring("jdbc:postgresql://".length(), q < 0 ? lower.length() : q);
            int slash = authority.indexOf('/');
            if ((slash < 0 ? authority : authority.substring(0, slash)).contains("@")) {
                throw new IllegalArgumentException("--database must not carry credentials (user@ or user:password@): "
                        + "give the user with --database-user or $WHATAMI_DATABASE_USER, the password in "
                        + "$WHATAMI_DATABASE_PASSWORD or a file named by --database-password-file");
            }
            return url;
        }

        /** The database user. Default: the driver's (the name of the user running the server). */
        public Builder user(String user) {
            this.user = Optional.of(user);
            return this;
        }

        /** The database password; never logged, never shown. Default: none (e.g. {@code trust} or peer auth). */
        public Builder password(String password) {
            this.password = Optional.of(password);
            return this;
        }

        /** The clock that stamps {@code receivedAt}. Default: the system clock (UTC). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** How much is kept, across every server on the database. Default: {@link ReportLimits#databaseDefaults()}. */
        public Builder limits(ReportLimits limits) {
            this.limits = Objects.requireNonNull(limits, "limits");
            return this;
        }

        /** Most connections this server holds. Default: 8. */
        public Builder poolSize(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("the pool needs at least one connection, got " + n);
            }
            this.poolSize = n;
            return this;
        }

        /**
         * How long a request waits for a connection (also the TCP connect timeout, in whole seconds, at least 1) before
         * the store gives up with an {@link IOException}. Default: 2 s.
         */
        public Builder connectionTimeout(Duration d) {
            if (d.toMillis() < 250) {
                throw new IllegalArgumentException("the connection timeout must be at least 250 ms, got " + d);
            }
            this.connectionTimeout = d;
            return this;
        }

        /** Longest wait for the database's answer to one statement (whole seconds, at least 1). Default: 30 s. */
        public Builder statementTimeout(Duration d) {
            this.statementTimeout = Objects.requireNonNull(d, "statementTimeout");
            return this;
        }

        /**
         * How many transactions this server writes reports in at once (each holds one of the pool's connections while
         * it writes; at most {@link #poolSize}). Reports arriving while they are busy wait and are then written
         * together, up to {@link #maxBatch} in one transaction. Default: 2.
         */
        public Builder writers(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("at least one writer is needed, got " + n);
            }
            this.writers = n;
            return this;
        }

        /**
         * Most reports kept in one transaction. Default: {@link #DEFAULT_MAX_BATCH}; 1 writes every report in a
         * transaction of its own.
         */
        public Builder maxBatch(int n) {
            if (n < 1 || n > MAX_BATCH) {
                throw new IllegalArgumentException("a batch holds 1 to " + MAX_BATCH + " reports, got " + n);
            }
            this.maxBatch = n;
            return this;
        }

        /**
         * Opens the pool, and creates or upgrades the schema ({@link ReportSchema}).
         *
         * @throws IOException when the database cannot be reached within the connection timeout, refuses the
         *                     credentials, or has a schema newer than this server's; the message says which
         */
        public JdbcReportStore build() throws IOException {
            return new JdbcReportStore(this);
        }
    }
}
