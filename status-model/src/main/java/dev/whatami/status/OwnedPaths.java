package dev.whatami.status;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Whether a file or directory the agent trusts (a trusted key, its state directory) can be changed only by root or
 * by the user the agent runs as: the path itself and every directory above it, as {@code sudo} and OpenSSH's
 * {@code StrictModes} check. A directory above may be writable by others only when it has the sticky bit
 * ({@code /tmp}): there no one can move another user's entry aside. Where the file system has no owners and modes,
 * nothing is checked.
 */
public final class OwnedPaths {
    private static final int GROUP_OTHER_WRITE = 0022;
    private static final int STICKY = 01000;

    private OwnedPaths() {
    }

    /**
     * The first reason why {@code path} (not followed if it is a link) or a directory above it could be changed by
     * someone other than root or this process's user, as a sentence naming the path and the command that mends it;
     * empty when there is none.
     *
     * @param what what the path is, for the sentence ("the trusted key", "the state directory")
     */
    public static Optional<String> problem(Path path, String what) throws IOException {
        Integer me = ownUid();
        if (me == null) {
            return Optional.empty();
        }
        Path p = path.toAbsolutePath().normalize();
        if (Files.isSymbolicLink(p)) {
            return Optional.of(what + " " + p + " is a symbolic link, which whoever owns it can point elsewhere; "
                    + "put the real file there");
        }
        Optional<String> own = check(p, what + " " + p, me, false);
        if (own.isPresent()) {
            return own;
        }
        Path parent = p.getParent();
        if (parent == null) {
            return Optional.empty();
        }
        for (Path dir = parent.toRealPath(); dir != null; dir = dir.getParent()) {
            Optional<String> up = check(dir, "the directory " + dir + " above " + what + " " + p, me, true);
            if (up.isPresent()) {
                return up;
            }
        }
        return Optional.empty();
    }

    private static Optional<String> check(Path p, String name, int me, boolean stickyAllowed) throws IOException {
        int uid;
        int mode;
        try {
            uid = (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            return Optional.empty();
        }
        if (uid != 0 && uid != me) {
            return Optional.of(name + " belongs to uid " + uid + ", who could replace what it holds; only root"
                    + (me == 0 ? "" : " or uid " + me) + " may own it: chown " + (me == 0 ? "root" : me) + " " + p);
        }
        if ((mode & GROUP_OTHER_WRITE) != 0 && !(stickyAllowed && (mode & STICKY) != 0)) {
            return Optional.of(name + " can be written by others (mode " + String.format("%04o", mode & 07777)
                    + "), who could replace what it holds: chmod go-w " + p);
        }
        return Optional.empty();
    }

    /** The uid this process runs as, from {@code /proc/self}; null where that cannot be told. */
    private static Integer ownUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            return null;
        }
    }
}
