package dev.whatami.run.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;


/**
 * A task's log file, opened for appending without ever following a symbolic link (one planted in the log directory
 * would make root append task output to whatever it points at), rotated once when it is full, mode 0640.
 */
final class LogFiles {
    private LogFiles() {
    }

    static OutputStream open(Path file, long maxBytes) throws IOException {
        BasicFileAttributes attrs = attributes(file);
        if (attrs != null && !attrs.isRegularFile()) {
            throw new IOException(file + " is not a regular file (" + (attrs.isSymbolicLink() ? "a symbolic link"
                    : "a directory or device") + "); whatami never writes logs through links. Remove it.");
        }
        if (attrs != null && attrs.size() >= maxBytes) {
            // rotated once: the previous generation is kept as <task>.out.1, older ones are dropped
            Files.move(file, file.resolveSibling(file.getFileName() + ".1"), StandardCopyOption.REPLACE_EXISTING);
        }
        boolean fresh = attributes(file) == null;
        OutputStream out = Channels.newOutputStream(Files.newByteChannel(file, java.util.Set.of(StandardOpenOption.CREATE,
                StandardOpenOption.APPEND, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)));
        if (fresh) {
            try {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: keep the default mode
            }
        }
        return out;
    }

    private static BasicFileAttributes attributes(Path file) throws IOException {
        try {
            return Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
    }
}
