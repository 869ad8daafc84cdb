package dev.whatami.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The report store's schema in PostgreSQL, versioned: {@code whatami_schema} records each version applied, and the
 * scripts {@code schema/V<n>__<what>.sql} beside this class bring a database from any older version to
 * {@link #CURRENT}. All of it runs in one transaction under an advisory lock, so servers starting at once against a
 * new database apply each version exactly once (PostgreSQL's DDL is transactional: a failed upgrade leaves the old
 * schema whole). A database whose schema is newer than this server knows is refused: an older server must not write
 * into a layout it does not understand.
 */
final class ReportSchema {
    private static final Logger LOG = LoggerFactory.getLogger(ReportSchema.class);
    /** The schema version this server writes. */
    static final int CURRENT = 2;
    private static final String[] DESCRIPTIONS = {"", "reports", "instance_keys"};
    /** {@code pg_advisory_xact_lock} key: "whatami" in ASCII, as a number. */
    private static final long LOCK = 0x776861_74616d69L;

    private ReportSchema() {
    }

    /**
     * Brings the schema to {@link #CURRENT}.
     *
     * @return the version the database had before (0: none)
     * @throws SQLException when the database cannot be read or changed, or its schema is newer than this server's
     */
    static int migrate(Connection c) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            try (Statement s = c.createStatement()) {
                s.execute("SELECT pg_advisory_xact_lock(" + LOCK + ")");
                s.execute("CREATE TABLE IF NOT EXISTS whatami_schema (version integer PRIMARY KEY, description text "
                        + "NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
            }
            int had;
            try (Statement s = c.createStatement();
                    ResultSet r = s.executeQuery("SELECT coalesce(max(version), 0) FROM whatami_schema")) {
                r.next();
                had = r.getInt(1);
            }
            if (had > CURRENT) {
                throw new SQLException("the database's report schema is version " + had + "; this whatami-server "
                        + "knows versions up to " + CURRENT + ": run a newer whatami-server against it");
            }
            for (int v = had + 1; v <= CURRENT; v++) {
                try (Statement s = c.createStatement()) {
                    for (String sql : statements(v)) {
                        s.execute(sql);
                    }
                }
                try (PreparedStatement p = c.prepareStatement("INSERT INTO whatami_schema (version, description) "
                        + "VALUES (?, ?)")) {
                    p.setInt(1, v);
                    p.setString(2, DESCRIPTIONS[v]);
                    p.executeUpdate();
                }
            }
            c.commit();
            if (had < CURRENT) {
                LOG.info("report schema: version {} -> {}", had, CURRENT);
            }
            return had;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    /** The statements of version {@code v}'s script: split at lines ending in {@code ;}, comments dropped. */
    static List<String> statements(int v) {
        String name = "schema/V" + v + "__" + DESCRIPTIONS[v] + ".sql";
        String text;
        try (InputStream in = ReportSchema.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("the server jar lacks " + name);
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : text.split("\n")) {
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("--")) {
                continue;
            }
            current.append(line).append('\n');
            if (t.endsWith(";")) {
                String sql = current.toString().strip();
                out.add(sql.substring(0, sql.length() - 1));
                current.setLength(0);
            }
        }
        if (!current.toString().isBlank()) {
            throw new IllegalStateException(name + " ends without ';'");
        }
        return out;
    }
}
