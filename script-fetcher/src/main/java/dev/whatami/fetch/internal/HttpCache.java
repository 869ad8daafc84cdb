package dev.whatami.fetch.internal;

import dev.whatami.fetch.TrustedKeys;
import dev.whatami.status.AtomicFiles;
import dev.whatami.userdata.Redact;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A validator cache: the last good copy of each URL with its ETag/Last-Modified, so a {@code per-boot} task asks
 * {@code If-None-Match} and gets a 304 instead of the whole script. A copy from the cache is verified again (digest,
 * signature) exactly like a download. Best effort: a cache that cannot be written only costs a download next time.
 *
 * <p>Layout: one directory per URL (named by the SHA-256 of the URL, which may hold credentials and is therefore
 * not written anywhere) holding {@code body-<sha256>} and
 * {@code meta.properties}. The body is written through {@link Staging} (fsync, atomic rename) under a name that is
 * its own digest, then the metadata through {@link AtomicFiles}: the metadata is the one commit point, and it always
 * names a complete body whose digest it states.
 */
final class HttpCache {
    private static final Logger LOG = LoggerFactory.getLogger(HttpCache.class);
    private static final String META = "meta.properties";

    /** What is cached for one URL. */
    record Entry(Path body, String sha256, Optional<String> etag, Optional<String> lastModified) {
    }

    private final Path dir;
    private final Set<Path> live;

    HttpCache(Path dir, Set<Path> live) {
        this.dir = dir;
        this.live = live;
    }

    private Path slot(URI url) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(url.toString().getBytes(StandardCharsets.UTF_8));
            return dir.resolve(HexFormat.of().formatHex(h));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    Optional<Entry> lookup(URI url) {
        Path slot = slot(url);
        Path meta = slot.resolve(META);
        if (!Files.isRegularFile(meta)) {
            return Optional.empty();
        }
        try {
            Properties p = new Properties();
            p.load(new StringReader(Files.readString(meta, StandardCharsets.UTF_8)));
            String sha = p.getProperty("sha256", "");
            if (!sha.matches("[0-9a-f]{64}")) {
                return Optional.empty();
            }
            Path body = slot.resolve("body-" + sha);
            if (!Files.isRegularFile(body)) {
                return Optional.empty();
            }
            return Optional.of(new Entry(body, sha, Optional.ofNullable(p.getProperty("etag")),
                    Optional.ofNullable(p.getProperty("last-modified"))));
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** Keeps {@code placed} (whose SHA-256 is {@code sha256}) as the copy of {@code url}. */
    void store(URI url, Optional<String> etag, Optional<String> lastModified, Path placed, String sha256) {
        if (etag.isEmpty() && lastModified.isEmpty()) {
            return; // nothing to revalidate with
        }
        Path slot = slot(url);
        try {
            Files.createDirectories(slot);
            Staging.removeStale(slot, live);
            Path body = slot.resolve("body-" + sha256);
            if (!Files.isRegularFile(body)) {
                try (Staging staging = new Staging(slot, body.getFileName().toString(), Optional.empty(),
                        Long.MAX_VALUE, TrustedKeys.none(), live); InputStream in = Files.newInputStream(placed)) {
                    staging.copyFrom(in, placed.toString(), n -> { });
                    if (!staging.sha256Hex().equals(sha256)) {
                        return; // changed since it was placed: not the copy that was verified
                    }
                    staging.commit(body, Staging.PRIVATE, false); // verified by its digest on every use
                }
            }
            Properties p = new Properties();
            p.setProperty("url", Redact.url(url)); // for a person looking; the slot's name is the key
            p.setProperty("sha256", sha256);
            etag.ifPresent(e -> p.setProperty("etag", e));
            lastModified.ifPresent(l -> p.setProperty("last-modified", l));
            StringWriter text = new StringWriter();
            p.store(text, null);
            AtomicFiles.write(slot.resolve(META), text.toString().getBytes(StandardCharsets.UTF_8));
            try (DirectoryStream<Path> old = Files.newDirectoryStream(slot, "body-*")) {
                for (Path b : old) {
                    if (!b.equals(body)) {
                        Files.deleteIfExists(b);
                    }
                }
            }
        } catch (IOException e) {
            LOG.debug("could not cache {}: {}", Redact.url(url), e.toString());
        }
    }
}
