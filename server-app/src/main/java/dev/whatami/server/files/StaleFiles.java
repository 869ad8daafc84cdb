package dev.whatami.server.files;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes the temp files a killed server leaves (an upload or report write interrupted by {@code kill -9} or a
 * power cut). Only names the server itself makes, and only files not written to for {@code olderThan}: a temp file
 * being written is touched with every write, and another server sharing the directory may be writing one now.
 *
 * <p>Public for {@code ScriptServer} (the script root) and the embedded report store (its directory); not an API.
 */
public final class StaleFiles {
    private static final Logger LOG = LoggerFactory.getLogger(StaleFiles.class);

    /** How long a temp file must have been left alone to count as abandoned. */
    public static final Duration ABANDONED = Duration.ofMinutes(10);

    private StaleFiles() {
    }

    /** Deletes abandoned temp files directly in {@code dir}; returns how many. Never throws. */
    public static int clean(Path dir, Predicate<String> isTempName, Duration olderThan, Clock clock) {
        int removed = 0;
        Instant cutoff = clock.instant().minus(olderThan);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                if (!isTempName.test(f.getFileName().toString())) {
                    continue;
                }
                try {
                    BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class,
                            java.nio.file.LinkOption.NOFOLLOW_LINKS);
                    if (a.isRegularFile() && a.lastModifiedTime().toInstant().isBefore(cutoff) && Files.deleteIfExists(f)) {
                        removed++;
                    }
                } catch (IOException e) {
                    LOG.warn("could not remove the abandoned temp file {}: {}", f, e.toString());
                }
            }
        } catch (IOException e) {
            LOG.warn("could not look for abandoned temp files in {}: {}", dir, e.toString());
        }
        if (removed > 0) {
            LOG.info("removed {} abandoned temp file(s) from {}", removed, dir);
        }
        return removed;
    }
}
