package dev.whatami.agent.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * Where a setting comes from when its flag is not given: the environment ({@code WHATAMI_STATE_DIR}), then
 * the config file ({@code state-dir=...} in {@code /etc/whatami/agent.properties}), then the default.
 */
final class ConfigSources {
    static final Path DEFAULT_CONFIG = Path.of("/etc/whatami/agent.properties");

    private final Map<String, String> env;
    private final Properties config;
    private final Path configFile;

    private ConfigSources(Map<String, String> env, Properties config, Path configFile) {
        this.env = env;
        this.config = config;
        this.configFile = configFile;
    }

    /**
     * Reads the config file: {@code explicit} if given (it must exist), else {@code WHATAMI_CONFIG}, else
     * {@link #DEFAULT_CONFIG} when it exists.
     *
     * @param known option names a config file may set
     * @throws IllegalArgumentException with a message naming the file and the problem
     */
    static ConfigSources load(Map<String, String> env, Path explicit, Set<String> known) {
        Path file = explicit != null ? explicit
                : env.containsKey("WHATAMI_CONFIG") ? Path.of(env.get("WHATAMI_CONFIG")) : null;
        boolean required = file != null;
        if (file == null) {
            file = DEFAULT_CONFIG;
        }
        Properties p = new Properties();
        if (Files.isRegularFile(file) && (required || Files.isReadable(file))) {
            try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                p.load(r);
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalArgumentException("cannot read config file " + file + ": " + e.getMessage());
            }
            Set<String> unknown = new TreeSet<>(p.stringPropertyNames());
            unknown.removeAll(known);
            if (!unknown.isEmpty()) {
                throw new IllegalArgumentException("config file " + file + " sets unknown keys " + unknown
                        + "; known keys are " + new TreeSet<>(known));
            }
            String token = p.getProperty("report-token");
            if (token != null && !token.isBlank()) {
                refuseIfOthersCanRead(file);
            }
        } else if (required) {
            throw new IllegalArgumentException("config file " + file + " does not exist");
        }
        return new ConfigSources(env, p, file);
    }

    /**
     * A config file that holds the report token must be readable by its owner and root only (the package ships it 0640
     * root:root): anyone who can read the token can send reports as every instance of the fleet.
     */
    private static void refuseIfOthersCanRead(Path file) {
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
            int gid = (Integer) Files.getAttribute(file, "unix:gid");
            boolean groupReads = mode.contains(PosixFilePermission.GROUP_READ) && gid != 0;
            if (mode.contains(PosixFilePermission.OTHERS_READ) || groupReads) {
                throw new IllegalArgumentException("config file " + file + " holds report-token= but "
                        + (groupReads ? "its group (gid " + gid + ")" : "every user") + " can read it (mode "
                        + PosixFilePermissions.toString(mode) + "); chmod 600 " + file + " (or 640 with group root), "
                        + "or give the token as WHATAMI_REPORT_TOKEN instead");
            }
        } catch (IOException | UnsupportedOperationException e) {
            // no POSIX modes here (not Linux): nothing to check against
        }
    }

    /** A value and where it came from, for {@code --print-config}. */
    record Sourced(String value, String source) {
    }

    /** The value of option {@code name} (e.g. {@code state-dir}) from the environment or the config file. */
    Optional<String> get(String name) {
        return sourced(name).map(Sourced::value);
    }

    Optional<Sourced> sourced(String name) {
        String envName = "WHATAMI_" + name.toUpperCase(Locale.ROOT).replace('-', '_');
        String v = env.get(envName);
        if (v != null && !v.isBlank()) {
            return Optional.of(new Sourced(v.strip(), "environment " + envName));
        }
        v = config.getProperty(name);
        return v == null || v.isBlank() ? Optional.empty()
                : Optional.of(new Sourced(v.strip(), "config file " + configFile));
    }
}
