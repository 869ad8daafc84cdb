package dev.whatami.agent.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.helpers.NOPMDCAdapter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The agent executable's own SLF4J binding: each line stamped with its UTC time and level
 * ({@code 2026-11-25T22:29:43.674Z [INFO] …}), written to the console (stderr) and, during {@code run}, also to
 * {@code <log-dir>/agent.log} (opened without following links, mode 0640). It is registered only in the executable
 * jar (and the module's tests), never in the thin jar a library user depends on, so it never takes over their logging.
 * Stack traces appear only at debug level ({@code WHATAMI_LOG_LEVEL=debug}).
 *
 * <p>This is the app's one piece of global state: SLF4J finds its provider through the service loader.
 */
public final class AgentLog implements SLF4JServiceProvider {
    private static volatile Sinks sinks = new Sinks(System.err, null, Level.INFO, Clock.systemUTC());

    private final ConcurrentMap<String, Logger> loggers = new ConcurrentHashMap<>();
    private final IMarkerFactory markers = new BasicMarkerFactory();
    private final MDCAdapter mdc = new NOPMDCAdapter();
    private final ILoggerFactory factory = name -> loggers.computeIfAbsent(name, LineLogger::new);

    /** Where lines go: the console, optionally a file, at a level. */
    private record Sinks(PrintStream console, OutputStream file, Level level, Clock clock) {
    }

    /** Lines at {@code level} and above go to {@code console} only. */
    static void console(PrintStream console, Level level, Clock clock) {
        closeFile();
        sinks = new Sinks(console, null, level, clock);
    }

    /**
     * Lines also go to {@code file}, appended, unless {@code alreadyThere} (stderr is that file already, as in an
     * rc.local line with {@code 2>>agent.log}: written once, not twice).
     */
    static void alsoTo(Path file, boolean alreadyThere) throws IOException {
        Sinks s = sinks;
        if (alreadyThere) {
            return;
        }
        boolean fresh = !Files.exists(file, LinkOption.NOFOLLOW_LINKS);
        OutputStream out = Channels.newOutputStream(Files.newByteChannel(file, Set.of(StandardOpenOption.CREATE,
                StandardOpenOption.APPEND, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)));
        if (fresh) {
            try {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
            } catch (UnsupportedOperationException e) {
                // not POSIX
            }
        }
        closeFile();
        sinks = new Sinks(s.console(), out, s.level(), s.clock());
    }

    /** Stops writing to the file (at the end of a run). */
    static void closeFile() {
        Sinks s = sinks;
        if (s.file() != null) {
            try {
                s.file().close();
            } catch (IOException e) {
                // nothing to tell it with
            }
            sinks = new Sinks(s.console(), null, s.level(), s.clock());
        }
    }

    /** The level named {@code name} (error, warn, info, debug, trace), or info. */
    static Level level(String name) {
        try {
            return name == null ? Level.INFO : Level.valueOf(name.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return Level.INFO;
        }
    }

    @Override
    public ILoggerFactory getLoggerFactory() {
        return factory;
    }

    @Override
    public IMarkerFactory getMarkerFactory() {
        return markers;
    }

    @Override
    public MDCAdapter getMDCAdapter() {
        return mdc;
    }

    @Override
    public String getRequestedApiVersion() {
        return "2.0.99";
    }

    @Override
    public void initialize() {
        // nothing to set up: the sinks are configured by the commands
    }

    /** One named logger; the name is not printed (a boot console wants short lines). */
    private static final class LineLogger extends LegacyAbstractLogger {
        private static final long serialVersionUID = 1L;

        LineLogger(String name) {
            this.name = name;
        }

        private boolean enabled(Level level) {
            Level threshold = sinks.level();
            if (name.startsWith("org.apache.hc")) {
                threshold = threshold.toInt() > Level.WARN.toInt() ? threshold : Level.WARN;
            }
            return level.toInt() >= threshold.toInt();
        }

        @Override
        public boolean isTraceEnabled() {
            return enabled(Level.TRACE);
        }

        @Override
        public boolean isDebugEnabled() {
            return enabled(Level.DEBUG);
        }

        @Override
        public boolean isInfoEnabled() {
            return enabled(Level.INFO);
        }

        @Override
        public boolean isWarnEnabled() {
            return enabled(Level.WARN);
        }

        @Override
        public boolean isErrorEnabled() {
            return enabled(Level.ERROR);
        }

        @Override
        protected String getFullyQualifiedCallerName() {
            return null;
        }

        @Override
        protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] args,
                                                   Throwable t) {
            Sinks s = sinks;
            StringBuilder line = new StringBuilder(128).append(TimestampedLines.format(s.clock().millis()))
                    .append('[').append(level).append("] ")
                    .append(MessageFormatter.basicArrayFormat(pattern, args));
            if (t != null) {
                if (s.level().toInt() <= Level.DEBUG.toInt()) {
                    StringWriter trace = new StringWriter();
                    t.printStackTrace(new PrintWriter(trace));
                    line.append('\n').append(trace.toString().stripTrailing());
                } else {
                    line.append(": ").append(t);
                }
            }
            byte[] bytes = line.append('\n').toString().getBytes(StandardCharsets.UTF_8);
            synchronized (AgentLog.class) {
                s.console().write(bytes, 0, bytes.length);
                s.console().flush();
                if (s.file() != null) {
                    try {
                        s.file().write(bytes);
                    } catch (IOException e) {
                        // a full log disk must not stop the boot; the console still has the line
                    }
                }
            }
        }
    }
}
