package dev.whatami.fetch;

import dev.whatami.status.Trust;
import java.net.URI;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A file that was fetched and verified and now sits at its final path.
 *
 * @param path     the final path (mode 0700)
 * @param source   the URL the bytes came from (the primary or a mirror), raw: show it through
 *                 {@link dev.whatami.userdata.Redact#url(URI)}
 * @param sha256   SHA-256 of the bytes, lower-case hex
 * @param size     size in bytes
 * @param trust    why it may be believed
 * @param attempts attempts it took over every URL (1 when the first try worked; 0 for inline content)
 */
public record FetchResult(Path path, URI source, String sha256, long size, Trust trust, int attempts) {
    public FetchResult {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(sha256, "sha256");
        Objects.requireNonNull(trust, "trust");
    }
}
