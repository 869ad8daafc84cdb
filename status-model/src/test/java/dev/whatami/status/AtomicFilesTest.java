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

    /** Without the fsync (a running boot's status) a write is still whole for every reader, and world-readable. */
    @Test
    void aWriteThatIsNotDurable_isStillWholeForAReaderAtEveryMoment() throws Exception {
        Path target = dir.resolve("status.json");
        byte[] a = "a".repeat(70_000).getBytes(StandardCharsets.US_ASCII);
        byte[] b = "b".repeat(50_000).getBytes(StandardCharsets.US_ASCII);
        AtomicFiles.write(target, a, true, false);
        java.util.concurrent.atomic.AtomicInteger torn = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        Thread reader = new Thread(() -> {
            while (!done.get()) {
                try {
                    byte[] got = Files.readAllBytes(target);
                    if (!java.util.Arrays.equals(got, a) && !java.util.Arrays.equals(got, b)) {
                        torn.incrementAndGet();
                    }
                    reads.incrementAndGet();
                } catch (IOException e) {
                    torn.incrementAndGet(); // the file must be there at every moment
                }
            }
        });
        reader.start();
        // at least 300 writes, and on until the reader has read 100 times (it may start late on a busy machine)
        for (int i = 0; i < 300 || (reads.get() < 100 && i < 1_000_000); i++) {
            AtomicFiles.write(target, i % 2 == 0 ? b : a, true, false);
        }
        AtomicFiles.write(target, a, true, false);
        done.set(true);
        reader.join();
        assertThat(reads.get()).isGreaterThanOrEqualTo(100);
        assertThat(torn.get()).as("reads that saw a part of a write, or no file").isZero();
        assertThat(target).hasBinaryContent(a);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target))).isEqualTo("rw-r--r--");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).containsExactly(target);
        }
    }
}
