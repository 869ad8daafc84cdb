package dev.whatami.boot.internal;

import dev.whatami.status.OwnedPaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;

/**
 * Where a boot keeps things, and the rule that makes running scripts from there safe: the state and log directories
 * belong to the user the agent runs as and no one else can write them, so nobody can swap a verified script for
 * another, or plant a link that makes root write where it should not. Checked at every run; created with safe modes.
 *
 * <pre>
 * state/status.json                     0644: readable by any user, holds no secret
 * state/agent.lock                      the one-agent-at-a-time lock
 * state/instances/&lt;id&gt;/                0700: ledger.json, tasks/&lt;name&gt;/ (script, result.json)
 * state/once-ledger.json                frequency=once tasks, per image
 * state/cache/                          0700: validator cache of fetched scripts
 * log/&lt;task&gt;.out|.err, log/agent.log  0640, directory 0750
 * </pre>
 */
public final class StateLayout {
    private final Path state;
    private final Path logs;

    StateLayout(Path state, Path logs) {
        this.state = state;
        this.logs = logs;
    }

    /** The state directory was not safe to use; the message says why and what to change. */
    static final class UnsafeStateException extends IOException {
        private static final long serialVersionUID = 1L;

        UnsafeStateException(String message) {
            super(message);
        }
    }

    /**
     * Creates what is missing and checks both directories.
     *
     * @throws UnsafeStateException when either belongs to someone else, can be written by others, or is a link
     * @throws IOException          when they cannot be created
     */
    static StateLayout prepare(Path state, Path logs) throws IOException {
        ensure(state, "rwxr-xr-x", "state");
        ensure(logs, "rwxr-x---", "log");
        return new StateLayout(state, logs);
    }

    private static void ensure(Path dir, String mode, String what) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(dir);
            try {
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
            } catch (UnsupportedOperationException e) {
                return; // not a POSIX file system: nothing to check either
            }
        }
        check(dir, what);
    }

    private static void check(Path dir, String what) throws IOException {
        PosixFileAttributes a;
        try {
            a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (UnsupportedOperationException e) {
            return;
        }
        if (a.isSymbolicLink()) {
            throw new UnsafeStateException("the " + what + " directory " + dir + " is a symbolic link; whatami never "
                    + "follows links where it keeps scripts and logs. Point it at the real directory.");
        }
        if (!a.isDirectory()) {
            throw new UnsafeStateException("the " + what + " directory " + dir + " is not a directory");
        }
        Integer me = ownUid();
        Object owner = Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        if (me != null && owner instanceof Integer uid && !uid.equals(me)) {
            throw new UnsafeStateException("the " + what + " directory " + dir + " belongs to uid " + uid + ", not to "
                    + "uid " + me + " which runs the agent; scripts run from there, so it must be the agent's own: "
                    + "chown " + me + " " + dir + " (or use another directory)");
        }
        Set<PosixFilePermission> p = a.permissions();
        if (p.contains(PosixFilePermission.GROUP_WRITE) || p.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new UnsafeStateException("the " + what + " directory " + dir + " can be written by others (mode "
                    + PosixFilePermissions.toString(p) + "); anyone who can write there could change a verified "
                    + "script before it runs. Run chmod go-w " + dir + " (or use another directory).");
        }
        // the directories above too: whoever can write one of them can move this one aside and put another there
        Optional<String> above = OwnedPaths.problem(dir, "the " + what + " directory");
        if (above.isPresent()) {
            throw new UnsafeStateException(above.get() + " (or use another directory)");
        }
    }

    /** The uid this process runs as, from {@code /proc/self}; null where that cannot be told. */
    private static Integer ownUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            return null;
        }
    }

    /** Creates {@code instances/} (0700) when a plan is about to run, and checks it. */
    void ensureInstanceDirs() throws IOException {
        ensure(instances(), "rwx------", "state");
    }

    public Path stateDir() {
        return state;
    }

    public Path logDir() {
        return logs;
    }

    Path statusFile() {
        return state.resolve("status.json");
    }

    Path lockFile() {
        return state.resolve("agent.lock");
    }

    Path reserveFile() {
        return state.resolve(".disk-reserve");
    }

    /** This instance's report key (see {@link InstanceKey}); kept across resets. */
    Path instanceKeyFile() {
        return state.resolve("report-key");
    }

    Path cacheDir() {
        return state.resolve("cache");
    }

    Path instances() {
        return state.resolve("instances");
    }

    /** The instance's own directory. */
    Path instanceDir(String instanceId) {
        return instances().resolve(directoryName(instanceId));
    }

    /** Where a task's script and result.json live. */
    Path taskDir(String instanceId, String taskName) {
        return instanceDir(instanceId).resolve("tasks").resolve(taskName);
    }

    /**
     * An instance id as a directory name, injectively: an id of {@code [A-Za-z0-9._-]} not starting with a dot is
     * itself; any other gets its unsafe characters replaced and a hash of the whole id appended.
     */
    public static String directoryName(String id) {
        if (id.matches("[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}")) {
            return id;
        }
        String safe = id.replaceAll("[^A-Za-z0-9._-]", "_");
        safe = (safe.startsWith(".") ? "_" + safe.substring(1) : safe);
        safe = safe.substring(0, Math.min(safe.length(), 180));
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
            return safe + "~" + HexFormat.of().formatHex(h, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether a file exists at {@code p}, never following a link. */
    static boolean exists(Path p) {
        try {
            Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            return true;
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException | UnsupportedOperationException e) {
            return Files.exists(p, LinkOption.NOFOLLOW_LINKS);
        }
    }
}
