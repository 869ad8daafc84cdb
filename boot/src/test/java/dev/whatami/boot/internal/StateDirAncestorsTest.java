package dev.whatami.boot.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The owner of a directory above the state directory can move it aside and put a fresh one there, so that
 * per-instance tasks run again: every directory above must be root's or the agent's, and not writable by others
 * unless sticky (as sudo and OpenSSH check).
 */
class StateDirAncestorsTest {
    @TempDir
    Path dir;
    private Path var;
    private Path state;
    private Path logs;

    @BeforeEach
    void dirs() throws Exception {
        assumeTrue(Files.getAttribute(Path.of("/proc/self"), "unix:uid").equals(0),
                "changes owners: runs as root (as CI does)");
        var = Files.createDirectories(dir.resolve("var"));
        Files.setPosixFilePermissions(var, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path lib = Files.createDirectories(var.resolve("lib"));
        Files.setPosixFilePermissions(lib, PosixFilePermissions.fromString("rwxr-xr-x"));
        state = lib.resolve("whatami");
        logs = var.resolve("log-whatami");
    }

    @Test
    void ancestorsOfRootOrTheAgent_areAccepted_andTheDirectoriesMade() throws Exception {
        StateLayout.prepare(state, logs);
        assertThat(state).isDirectory();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(logs))).isEqualTo("rwxr-x---");
    }

    @Test
    void anAncestorOwnedByAnotherUser_isRefused_namingIt() throws Exception {
        Files.setAttribute(var, "unix:uid", 65534, LinkOption.NOFOLLOW_LINKS);
        assertThatThrownBy(() -> StateLayout.prepare(state, logs))
                .isInstanceOf(StateLayout.UnsafeStateException.class)
                .hasMessageContaining("the directory " + var.toRealPath() + " above the state directory")
                .hasMessageContaining("belongs to uid 65534").hasMessageContaining("chown root " + var.toRealPath());
    }

    @Test
    void anAncestorWritableByOthers_isRefused_unlessSticky() throws Exception {
        Files.setPosixFilePermissions(var, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThatThrownBy(() -> StateLayout.prepare(state, logs))
                .isInstanceOf(StateLayout.UnsafeStateException.class)
                .hasMessageContaining("the directory " + var.toRealPath() + " above the state directory")
                .hasMessageContaining("mode 0777").hasMessageContaining("chmod go-w " + var.toRealPath());
        Files.setAttribute(var, "unix:mode", 01777);
        StateLayout.prepare(state, logs);
        assertThat(state).isDirectory();
    }
}
