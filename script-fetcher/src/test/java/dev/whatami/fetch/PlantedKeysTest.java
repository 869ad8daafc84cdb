package dev.whatami.fetch;

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
 * A key planted by someone other than root (or the agent's user) would let that someone's scripts run as root under
 * {@code --require-signature}: the trusted-keys directory, each key and every directory above them must be
 * changeable by root or the agent's user only, or no key is trusted.
 */
class PlantedKeysTest {
    private static final int NOBODY = 65534;

    @TempDir
    Path dir;
    private Path keys;
    private Path key;
    private String pem;

    @BeforeEach
    void keys() throws Exception {
        assumeTrue(Files.getAttribute(Path.of("/proc/self"), "unix:uid").equals(0),
                "changes owners: runs as root (as CI does)");
        keys = Files.createDirectories(dir.resolve("etc/trusted-keys"));
        Files.setPosixFilePermissions(keys, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(keys.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
        pem = new Keys().publicPem();
        key = Files.writeString(keys.resolve("owner.pub"), pem);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
    }

    @Test
    void keysOwnedByRoot_notWritableByOthers_areTrusted() {
        assertThat(TrustedKeys.fromDirectory(keys).names()).containsExactly("owner.pub");
    }

    @Test
    void aKeyWritableByTheGroup_isRefused() throws Exception {
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-rw-r--"));
        assertRefused("the trusted key " + key + " can be written by others (mode 0664)", "chmod go-w " + key);
    }

    @Test
    void aKeyOwnedByAnotherUser_isRefused() throws Exception {
        Files.setAttribute(key, "unix:uid", NOBODY, LinkOption.NOFOLLOW_LINKS);
        assertRefused("the trusted key " + key + " belongs to uid 65534", "chown root " + key);
    }

    @Test
    void aKeysDirectoryWritableByOthers_isRefused_evenWhenItsKeysAreFine() throws Exception {
        Files.setPosixFilePermissions(keys, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertRefused("the trusted-keys directory " + keys.toRealPath() + " can be written by others (mode 0777)",
                "chmod go-w " + keys.toRealPath());
    }

    @Test
    void aDirectoryAbove_ownedByAnotherUser_isRefused() throws Exception {
        Path etc = keys.getParent();
        Files.setAttribute(etc, "unix:uid", NOBODY, LinkOption.NOFOLLOW_LINKS);
        assertRefused("the directory " + etc.toRealPath() + " above the trusted-keys directory", "belongs to uid 65534");
    }

    @Test
    void aDirectoryAboveWritableByOthers_isRefused_unlessSticky() throws Exception {
        Path etc = keys.getParent();
        Files.setPosixFilePermissions(etc, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertRefused("the directory " + etc.toRealPath() + " above", "mode 0777");
        Files.setAttribute(etc, "unix:mode", 01777);
        assertThat(TrustedKeys.fromDirectory(keys).names()).containsExactly("owner.pub");
    }

    @Test
    void aKeyThatIsALink_isRefused() throws Exception {
        Path real = Files.writeString(dir.resolve("elsewhere.pem"), pem);
        Files.delete(key);
        Files.createSymbolicLink(key, real);
        assertRefused("the trusted key " + key + " is a symbolic link", "put the real file there");
    }

    private void assertRefused(String... parts) {
        assertThatThrownBy(() -> TrustedKeys.fromDirectory(keys))
                .isInstanceOfSatisfying(FetchException.class, e -> {
                    assertThat(e.failure()).isEqualTo(FetchFailure.CONFIGURATION);
                    assertThat(e.getMessage()).contains(parts).contains("no key there is trusted")
                            .doesNotContain("BEGIN PUBLIC KEY").doesNotContain(pem.lines().skip(1).findFirst()
                                    .orElseThrow());
                });
    }
}
