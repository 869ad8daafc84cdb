package dev.whatami.boot.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A little space kept back on the state disk: when it fills while a task runs, the record that the task succeeded
 * must still land, or the next boot would take it for interrupted and run it again. A ballast file is kept in the
 * state directory; a write that fails for lack of space frees it and tries once more.
 */
final class DiskReserve {
    private static final Logger LOG = LoggerFactory.getLogger(DiskReserve.class);
    static final int BYTES = 256 * 1024;

    /** A write that may fail for lack of space. */
    interface Write {
        void run() throws IOException;
    }

    private final Path file;

    DiskReserve(Path file) {
        this.file = file;
    }

    /** Makes sure the ballast exists; best effort (a disk already full simply has none). */
    void keep() {
        try {
            if (!StateLayout.exists(file)) {
                Files.write(file, new byte[BYTES]);
            }
        } catch (IOException e) {
            LOG.debug("no disk reserve at {}: {}", file, e.toString());
        }
    }

    /** Runs {@code write}; when it fails for lack of space, frees the reserve and runs it once more. */
    void write(Write write) throws IOException {
        try {
            write.run();
        } catch (IOException e) {
            if (!full(e)) {
                throw e;
            }
            LOG.warn("the state disk is full ({}); using the space kept in reserve to record what happened. Free "
                    + "space on it.", file.getParent());
            Files.deleteIfExists(file);
            write.run();
        }
    }

    static boolean full(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains("No space left on device")) {
                return true;
            }
        }
        return false;
    }
}
