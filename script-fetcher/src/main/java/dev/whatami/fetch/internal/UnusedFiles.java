package dev.whatami.fetch.internal;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ThreadLocalRandom;

/**
 * New empty files under names nobody uses, readable by their owner only: the staging file of a download and
 * the cache's temp files. Not {@code Files.createTempFile}: its first use seeds a SecureRandom, ~15 ms on the
 * boot path; the name only has to be unused, which creating it exclusively makes certain.
 */
final class UnusedFiles {
    private UnusedFiles() {
    }

    /** Creates {@code dir/<prefix>.<random hex><suffix>} and returns it. */
    static Path create(Path dir, String prefix, String suffix) throws IOException {
        FileAttribute<?>[] ownerOnly = dir.getFileSystem().supportedFileAttributeViews().contains("posix")
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))}
                : new FileAttribute<?>[0];
        while (true) {
            Path p = dir.resolve(prefix + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + suffix);
            try {
                return Files.createFile(p, ownerOnly);
            } catch (FileAlreadyExistsException e) {
                // taken; pick another name
            }
        }
    }
}
