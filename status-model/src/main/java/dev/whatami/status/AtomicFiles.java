package dev.whatami.status;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Whole-file writes that a crash or power loss never leaves half done: a temp file beside the target,
 * {@code fsync}, atomic rename, {@code fsync} of the directory. Used for the ledger, results and status files.
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Replaces {@code target} with {@code content}, atomically, mode 0600. Creates the parent directories. */
    public static void write(Path target, byte[] content) throws IOException {
        write(target, content, false);
    }

    /**
     * Replaces {@code target} with {@code content}, atomically: a temp file beside it (created new, never through a
     * link), {@code fsync}, rename over the target, {@code fsync} of the directory (a link at the target is replaced,
     * not followed). Mode 0600, or
     * 0644 when {@code worldReadable} (for files that hold no secret, such as {@code status.json}).
     */
    public static void write(Path target, byte[] content, boolean worldReadable) throws IOException {
        write(target, content, worldReadable, true);
    }

    /**
     * As {@link #write(Path, byte[], boolean)}; with {@code durable} false without the {@code fsync}s (of the file and,
     * after the rename, of its directory): still atomic
     * for every reader (the rename replaces the file whole), but a crash of the machine soon after may leave the
     * previous content. For documents a later write supersedes anyway, such as a running boot's status.
     */
    public static void write(Path target, byte[] content, boolean worldReadable, boolean durable) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp;
        FileChannel opened;
        while (true) {
            // Not Files.createTempFile: its first use seeds a SecureRandom, ~15 ms on the boot path. The name only
            // has to be unused; CREATE_NEW makes that certain, and the file is private from the start.
            tmp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
                    + ".tmp");
            try {
                opened = FileChannel.open(tmp, EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                        mode(dir, worldReadable ? "rw-r--r--" : "rw-------"));
                break;
            } catch (FileAlreadyExistsException e) {
                // taken; pick another name
            }
        }
        try {
            try (FileChannel ch = opened) {
                ByteBuffer buf = ByteBuffer.wrap(content);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                if (durable) {
                    ch.force(true);
                }
            }
            if (worldReadable && dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                // the creation mode passes through the umask; a reader of status.json must not depend on it
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            if (durable) {
                syncDirectory(dir);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Makes the rename itself durable: without this, a power loss soon after can bring back the old file even though
     * the new one's bytes were synced. Where a directory cannot be opened for it (not Linux), the rename stays as the
     * file system keeps it.
     */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // not supported here; the file's own fsync still happened
        }
    }

    /**
     * Reads a whole file written by {@link #write}, never through a symbolic link (a link planted where a state file
     * should be is refused, not followed) and never more than {@code maxBytes}.
     *
     * @throws IOException when it cannot be read, is a link, or is larger than {@code maxBytes}
     */
    public static byte[] read(Path file, int maxBytes) throws IOException {
        try (java.nio.channels.SeekableByteChannel ch = Files.newByteChannel(file, java.util.Set.of(StandardOpenOption.READ,
                java.nio.file.LinkOption.NOFOLLOW_LINKS))) {
            long size = ch.size();
            if (size > maxBytes) {
                throw new IOException(file + " is " + size + " bytes, more than the " + maxBytes + " expected");
            }
            ByteBuffer buf = ByteBuffer.allocate((int) size);
            while (buf.hasRemaining() && ch.read(buf) >= 0) {
                // read it all
            }
            return buf.array();
        } catch (IOException e) {
            if (Files.isSymbolicLink(file)) {
                throw new IOException(file + " is a symbolic link; whatami never reads state through links. Remove "
                        + "it (someone else may have planted it).", e);
            }
            throw e;
        }
    }

    private static FileAttribute<?>[] mode(Path dir, String mode) {
        return dir.getFileSystem().supportedFileAttributeViews().contains("posix")
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode))}
                : new FileAttribute<?>[0];
    }
}
