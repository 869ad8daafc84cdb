package dev.whatami.boot.internal;

import dev.whatami.status.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This instance's report key: 32 random bytes (base64url), made at the first boot that reports and kept in the state
 * directory (0600), sent with every report to the configured report URL ({@code Whatami-Instance-Key}). The server
 * binds the instance's reports to the first key it sees, so another instance holding the fleet's report token cannot
 * rewrite this one's. Kept across {@code whatami-agent reset}; never logged, never sent to a report URL the user-data
 * names.
 */
final class InstanceKey {
    private static final Logger LOG = LoggerFactory.getLogger(InstanceKey.class);
    static final String HEADER = "Whatami-Instance-Key";

    private InstanceKey() {
    }

    /** The key in {@code file}, made there first if there is none; empty (with a warning) when it cannot be had. */
    static Optional<String> loadOrCreate(Path file, SecureRandom random) {
        try {
            if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                String key = new String(AtomicFiles.read(file, 1024), StandardCharsets.US_ASCII).strip();
                if (!valid(key)) {
                    LOG.warn("the instance key {} is damaged; reports go without it (a server that bound this "
                            + "instance refuses them: remove the file and the instance's report on the server)", file);
                    return Optional.empty();
                }
                return Optional.of(key);
            }
            byte[] bytes = new byte[32];
            random.nextBytes(bytes);
            String key = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
            AtomicFiles.write(file, key.getBytes(StandardCharsets.US_ASCII), false, true);
            return Optional.of(key);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            LOG.warn("cannot keep the instance key in {} ({}); reports go without it", file, e.getMessage());
            return Optional.empty();
        }
    }

    static boolean valid(String key) {
        return key.length() >= 16 && key.length() <= 256 && key.chars().allMatch(c -> c < 128
                && (Character.isLetterOrDigit(c) || c == '-' || c == '_'));
    }
}
