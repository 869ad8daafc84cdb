package dev.whatami.server;

import dev.whatami.emulator.MetadataService;
import dev.whatami.server.access.TlsFiles;
import dev.whatami.server.access.TokenFiles;
import dev.whatami.server.reports.EmbeddedReportStore;
import dev.whatami.server.reports.JdbcReportStore;
import dev.whatami.server.reports.ReportLimits;
import dev.whatami.server.reports.ReportStore;
import java.io.PrintWriter;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code whatami-server}: serves scripts and, when asked, emulates the EC2 metadata service. */
@Command(name = "whatami-server", mixinStandardHelpOptions = true, versionProvider = WhatamiServer.Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        subcommands = {SigningCommands.Keygen.class, SigningCommands.Sign.class, SigningCommands.Manifest.class},
        description = {"Serves scripts from a directory at /scriptserver/<file> (the seed's Apache layout) and, "
                + "when asked, answers as an EC2 metadata service so an agent can boot against it on a laptop."})
public final class WhatamiServer implements Callable<Integer> {

    @Option(names = "--root", paramLabel = "DIR", defaultValue = "www/scriptserver",
            description = "Directory of scripts served at /scriptserver/. Default: ${DEFAULT-VALUE}")
    Path root;

    @Option(names = "--port", paramLabel = "N", defaultValue = "8080",
            description = "TCP port; 0 picks a free one. Default: ${DEFAULT-VALUE}")
    int port;

    @Option(names = "--bind", paramLabel = "ADDR", defaultValue = "0.0.0.0",
            description = "Address to listen on. Default: ${DEFAULT-VALUE}")
    String bind;

    @Option(names = "--list", description = "Serve directory listings.")
    boolean list;

    @Option(names = "--metadata-user-data", paramLabel = "FILE",
            description = "Emulate EC2 metadata on the same port, serving this file as user-data.")
    Path metadataUserData;

    @Option(names = "--metadata-user-data-text", paramLabel = "TEXT",
            description = "Emulate EC2 metadata, serving this text as user-data.")
    String metadataUserDataText;

    @Option(names = "--metadata-no-user-data",
            description = "Emulate EC2 metadata with no user-data (404), as an instance launched without any.")
    boolean metadataNoUserData;

    @Option(names = "--instance-id", paramLabel = "ID", defaultValue = "i-0123456789abcdef0",
            description = "Instance id the emulator reports. Default: ${DEFAULT-VALUE}")
    String instanceId;

    @Option(names = "--imds-v2-required", description = "The emulator refuses requests without an IMDSv2 token.")
    boolean imdsV2Required;

    @Option(names = "--instance-id-per-client", description = "The emulator gives each client address its own "
            + "instance id (<id>-<address>): one emulator for a fleet.")
    boolean instanceIdPerClient;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Keep the agents' reports here so they survive "
            + "restarts. Default: in memory only")
    Path dataDir;

    @Option(names = "--database", paramLabel = "JDBC-URL", description = "Keep the reports in PostgreSQL "
            + "(jdbc:postgresql://host:5432/database), shared by every server given the same URL. No credentials in "
            + "it: the user from --database-user or $WHATAMI_DATABASE_USER, the password from $WHATAMI_DATABASE_PASSWORD "
            + "or --database-password-file. Default: the embedded store (memory, or --data-dir)")
    String database;

    @Option(names = "--database-user", paramLabel = "NAME", description = "The database user. Default: "
            + "$WHATAMI_DATABASE_USER, else the driver's (this process's user name)")
    String databaseUser;

    @Option(names = "--database-password-file", paramLabel = "FILE", description = "Read the database password "
            + "from FILE's first line (keep it 0600). Default: $WHATAMI_DATABASE_PASSWORD, else none")
    Path databasePasswordFile;

    @Option(names = "--database-batch", paramLabel = "N", description = "Most reports kept in one database "
            + "transaction: reports that arrive while the writers are busy are kept together (group commit); 1 keeps "
            + "each in its own. Default: ${DEFAULT-VALUE}", defaultValue = "" + JdbcReportStore.DEFAULT_MAX_BATCH)
    int databaseBatch;

    @Option(names = "--report-token-file", paramLabel = "FILE", description = "Require the bearer token on this "
            + "file's first line on POST /reports (keep it 0600). Default: $CREDENTIALS_DIRECTORY/token_report if "
            + "systemd loaded it, else none")
    Path reportTokenFile;

    @Option(names = "--upload-token-file", paramLabel = "FILE", description = "Allow PUT/DELETE /scriptserver/<name> "
            + "with Authorization: Bearer TOKEN, TOKEN on this file's first line (keep it 0600). Default: "
            + "$CREDENTIALS_DIRECTORY/token_upload if systemd loaded it, else uploads off")
    Path uploadTokenFile;

    @Option(names = "--read-token-file", paramLabel = "FILE", description = "Require the token on this file's first "
            + "line to read /status, /status.json and /metrics (Bearer, or a browser's password prompt). Default: "
            + "$CREDENTIALS_DIRECTORY/token_read if systemd loaded it, else those answer loopback clients only")
    Path readTokenFile;

    @Option(names = "--public-status", description = "Without a read token, let anyone who reaches the server read "
            + "/status, /status.json and /metrics (instance ids, addresses, output tails).")
    boolean publicStatus;

    /** Refused: a token on the command line is readable by every local user. Hidden; never echoed. */
    @Option(names = {"--report-token", "--upload-token", "--read-token"}, paramLabel = "TOKEN", hidden = true)
    java.util.List<String> tokenOnCommandLine;

    @Option(names = "--max-upload", paramLabel = "BYTES", defaultValue = "67108864", description = "Largest upload. "
            + "Default: ${DEFAULT-VALUE}")
    long maxUpload;

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "PEM certificate chain for https (with "
            + "--tls-key).")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM PKCS#8 private key for https.")
    Path tlsKey;

    @Option(names = "--tls-keystore", paramLabel = "FILE", description = "PKCS#12 key store for https (instead of "
            + "--tls-cert/--tls-key); password from $WHATAMI_TLS_KEYSTORE_PASSWORD.")
    Path tlsKeystore;

    @Option(names = "--access-log", paramLabel = "FILE|-", description = "Common Log Format access log to FILE, or "
            + "- for the console. Default: none")
    String accessLog;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "10000", description = "Most simultaneous "
            + "connections. Default: ${DEFAULT-VALUE}")
    int maxConnections;

    @Option(names = "--max-reports", paramLabel = "N", defaultValue = "200000", description = "Most instances whose "
            + "reports are kept; past it, those that reported least recently are forgotten. Default: ${DEFAULT-VALUE}")
    int maxReports;

    @Option(names = "--max-report-bytes", paramLabel = "BYTES", defaultValue = "262144", description = "Largest report "
            + "kept for one instance (larger: 413). Default: ${DEFAULT-VALUE}")
    int maxReportBytes;

    @Option(names = "--max-reports-total", paramLabel = "BYTES", description = "Most bytes of reports kept in all; past "
            + "it, those that reported least recently are forgotten. Default: 1073741824 (1 GiB) with --database, "
            + "else 67108864 (64 MiB, held in the heap)")
    Long maxReportsTotal;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The process environment; tests give their own. */
    private final java.util.Map<String, String> environment;

    WhatamiServer(java.util.Map<String, String> environment) {
        this.environment = environment;
    }

    public static void main(String[] args) {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        System.setProperty("org.slf4j.simpleLogger.showThreadName", "false");
        System.setProperty("org.slf4j.simpleLogger.log.org.eclipse.jetty.server.RequestLog", "info"); // --access-log -
        // HikariCP logs a connection the database cut (a restart) with its stack trace; the store says it in a line
        System.setProperty("org.slf4j.simpleLogger.log.com.zaxxer.hikari.pool.ProxyConnection", "off");
        System.exit(commandLine().execute(args));
    }

    /** The command line, for embedding and tests; {@link #main} runs it and exits. */
    public static CommandLine commandLine() {
        return commandLine(System.getenv());
    }

    /** The command line, reading {@code $WHATAMI_*} settings from {@code environment}. */
    static CommandLine commandLine(java.util.Map<String, String> environment) {
        return new CommandLine(new WhatamiServer(environment))
                .setParameterExceptionHandler((ex, args) -> {
                    PrintWriter err = ex.getCommandLine().getErr();
                    err.println("whatami-server: " + ex.getMessage());
                    err.println("Run whatami-server --help for the options.");
                    return 2;
                });
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int given = (metadataUserData != null ? 1 : 0) + (metadataUserDataText != null ? 1 : 0)
                + (metadataNoUserData ? 1 : 0);
        if (given > 1) {
            err.println("whatami-server: give at most one of --metadata-user-data, --metadata-user-data-text and "
                    + "--metadata-no-user-data");
            return 2;
        }
        if (imdsV2Required && given == 0) {
            err.println("whatami-server: --imds-v2-required needs the metadata emulator; add --metadata-user-data F, "
                    + "--metadata-user-data-text S or --metadata-no-user-data");
            return 2;
        }
        if (database != null && dataDir != null) {
            err.println("whatami-server: give --database or --data-dir, not both (with --database the reports are "
                    + "kept in the database)");
            return 2;
        }
        if (database == null && (databaseUser != null || databasePasswordFile != null)) {
            err.println("whatami-server: --database-user and --database-password-file need --database");
            return 2;
        }
        if (databaseBatch < 1 || databaseBatch > JdbcReportStore.MAX_BATCH) {
            err.println("whatami-server: --database-batch takes 1 to " + JdbcReportStore.MAX_BATCH
                    + " reports per transaction, got " + databaseBatch);
            return 2;
        }
        if (tokenOnCommandLine != null && !tokenOnCommandLine.isEmpty()) {
            err.println("whatami-server: a token on the command line can be read by every local user (ps, "
                    + "/proc/<pid>/cmdline); write it to a file only this server's user can read (chmod 600) and give "
                    + "--upload-token-file FILE, --report-token-file FILE or --read-token-file FILE (under systemd: "
                    + "/etc/whatami-server/tokens/upload, report or read)");
            return 2;
        }
        ScriptServer.Builder builder;
        java.util.Optional<String> uploads = java.util.Optional.empty();
        java.util.Optional<String> readToken = java.util.Optional.empty();
        MetadataService emulator = null;
        ReportStore store = null;
        try {
            builder = ScriptServer.builder(root).bind(bind).port(port).list(list);
            store = reportStore();
            builder.reports(store);
            TokenFiles.token(TokenFiles.Kind.REPORT, reportTokenFile, environment).ifPresent(builder::reportToken);
            uploads = TokenFiles.token(TokenFiles.Kind.UPLOAD, uploadTokenFile, environment);
            uploads.ifPresent(builder::uploadToken);
            readToken = TokenFiles.token(TokenFiles.Kind.READ, readTokenFile, environment);
            readToken.ifPresent(builder::readToken);
            builder.publicStatus(publicStatus);
            builder.maxUpload(maxUpload).maxConnections(maxConnections);
            if (accessLog != null) {
                builder.accessLog(accessLog);
            }
            if ((tlsCert == null) != (tlsKey == null)) {
                err.println("whatami-server: give --tls-cert and --tls-key together");
                return 2;
            }
            if (tlsCert != null && tlsKeystore != null) {
                err.println("whatami-server: give --tls-cert/--tls-key or --tls-keystore, not both");
                return 2;
            }
            if (tlsCert != null) {
                builder.tls(TlsFiles.fromPem(tlsCert, tlsKey), TlsFiles.PASSWORD);
            } else if (tlsKeystore != null) {
                String pw = environment.getOrDefault("WHATAMI_TLS_KEYSTORE_PASSWORD", "");
                java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
                try (java.io.InputStream in = Files.newInputStream(tlsKeystore)) {
                    ks.load(in, pw.toCharArray());
                } catch (java.security.GeneralSecurityException | java.io.IOException e) {
                    err.println("whatami-server: cannot open --tls-keystore " + tlsKeystore + " (" + e.getMessage()
                            + "); check the file and $WHATAMI_TLS_KEYSTORE_PASSWORD");
                    return 2;
                }
                builder.tls(ks, pw);
            }
            if (given == 1) {
                MetadataService.Builder eb = MetadataService.builder().instanceId(instanceId)
                        .imdsV2Required(imdsV2Required).instanceIdPerClient(instanceIdPerClient);
                if (metadataUserData != null) {
                    if (!Files.isRegularFile(metadataUserData)) {
                        err.println("whatami-server: --metadata-user-data " + metadataUserData + " is not a file");
                        return 2;
                    }
                    eb.userData(Files.readAllBytes(metadataUserData));
                } else if (metadataUserDataText != null) {
                    eb.userData(metadataUserDataText);
                }
                emulator = eb.build();
                builder.metadataService(emulator);
            }
        } catch (IllegalArgumentException e) {
            err.println("whatami-server: " + e.getMessage());
            closeQuietly(store);
            return 2;
        } catch (java.io.IOException e) {
            String m = e.getMessage();
            err.println("whatami-server: " + (m != null && (m.startsWith("--") || m.startsWith("cannot use the database"))
                    ? m : "cannot use --data-dir " + dataDir + ": " + e));
            closeQuietly(store);
            return 2;
        }
        ScriptServer server = builder.build();
        ReportStore reports = store;
        try {
            server.start();
        } catch (Exception e) {
            Throwable cause = e;
            while (cause.getCause() != null && !(cause instanceof BindException)) {
                cause = cause.getCause();
            }
            err.println("whatami-server: cannot listen on " + bind + ":" + port + ": " + cause.getMessage()
                    + (cause instanceof BindException ? " (is another server using the port? choose another with "
                    + "--port)" : ""));
            server.close();
            closeQuietly(reports);
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception e) {
                // stopping anyway
            }
            closeQuietly(reports);
        }, "whatami-server-stop"));
        out.println("whatami-server listening on " + server.uri() + " (root " + server.root() + "; scripts at "
                + server.uri() + "/scriptserver/"
                + (emulator == null ? "; metadata emulator off" : "; metadata emulator on, IMDSv2 "
                + (imdsV2Required ? "required" : "optional") + ", instance " + instanceId)
                + (list ? "; listings on" : "") + (uploads.isPresent() ? "; uploads on (max " + maxUpload + " bytes)"
                : "; uploads off") + (accessLog != null ? "; access log " + accessLog : "") + "; reports at " + server.uri() + "/reports, status at "
                + server.uri() + "/status (" + (database != null ? "kept in PostgreSQL at " + JdbcReportStore.describe(database)
                : dataDir == null ? "in memory" : "kept in " + dataDir) + "; " + (readToken.isPresent()
                ? "read token required" : publicStatus ? "readable by all" : "readable from this machine only") + "))");
        out.flush();
        server.join();
        return 0;
    }

    private ReportStore reportStore() throws java.io.IOException {
        ReportLimits limits = new ReportLimits(maxReports, maxReportBytes, maxReportsTotal != null ? maxReportsTotal
                : database != null ? ReportLimits.DATABASE_TOTAL_BYTES : ReportLimits.DEFAULT_TOTAL_BYTES);
        if (database != null) {
            JdbcReportStore.Builder db = JdbcReportStore.builder(database).limits(limits).maxBatch(databaseBatch);
            String user = databaseUser != null ? databaseUser : environment.get("WHATAMI_DATABASE_USER");
            if (user != null && !user.isEmpty()) {
                db.user(user);
            }
            if (databasePasswordFile != null) {
                String text;
                try {
                    text = Files.readString(databasePasswordFile, java.nio.charset.StandardCharsets.UTF_8);
                } catch (java.io.IOException e) {
                    throw new java.io.IOException("--database-password-file " + databasePasswordFile + " cannot be read ("
                            + e.getClass().getSimpleName() + "); give a readable file holding the password", e);
                }
                int nl = text.indexOf('\n');
                String pw = (nl < 0 ? text : text.substring(0, nl)).replace("\r", "");
                if (pw.isEmpty()) {
                    throw new java.io.IOException("--database-password-file " + databasePasswordFile + " is empty; put "
                            + "the password on its first line");
                }
                db.password(pw);
            } else {
                String pw = environment.get("WHATAMI_DATABASE_PASSWORD");
                if (pw != null && !pw.isEmpty()) {
                    db.password(pw);
                }
            }
            return db.build();
        }
        EmbeddedReportStore.Builder b = ReportStore.embedded().limits(limits);
        if (dataDir != null) {
            b.dataDir(dataDir);
        }
        return b.build();
    }

    private static void closeQuietly(ReportStore store) {
        if (store == null) {
            return;
        }
        try {
            store.close();
        } catch (Exception e) {
            // stopping anyway
        }
    }

    /** Version from the jar's manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = WhatamiServer.class.getPackage().getImplementationVersion();
            return new String[] {"whatami-server " + (v == null ? "(development build)" : v)};
        }
    }
}
