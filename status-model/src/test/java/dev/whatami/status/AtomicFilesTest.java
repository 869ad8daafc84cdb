package dev.whatami.status;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void createsParentsWritesPrivatelyAndReplacesWithoutLeavingTempFiles() throws IOException {
        Path target = dir.resolve("a/b/status.json");
        AtomicFiles.write(target, "first".getBytes(StandardCharsets.UTF_8));
        assertThat(target).hasContent("first");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target))).isEqualTo("rw-------");

        for (int i = 0; i < 50; i++) {
            AtomicFiles.write(target, ("v" + i).getBytes(StandardCharsets.UTF_8));
        }
        assertThat(target).hasContent("v49");
        try (Stream<Path> files = Files.list(target.getParent())) {
            assertThat(files).containsExactly(target); // no .status.json.*.tmp left behind
        }
    }

    @Test
    void aFailedWriteLeavesTheOldFileAndNoTempFile() throws IOException {
        Path target = dir.resolve("ledger.json");
        AtomicFiles.write(target, "old".getBytes(StandardCharsets.UTF_8));
        Files.createDirectory(dir.resolve("blocker"));
        // the rename cannot replace a non-empty directory: the write fails, the old content of others is untouched
        Files.writeString(dir.resolve("blocker/x"), "x");
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> AtomicFiles.write(dir.resolve("blocker"), "new".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IOException.class);
        assertThat(target).hasContent("old");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("ledger.json", "blocker");
        }
    }
}
