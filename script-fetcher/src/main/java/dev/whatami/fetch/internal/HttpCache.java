package dev.whatami.fetch.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Properties;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.io.support.ClassicRequestBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A validator cache: the last good copy of each URL with its ETag/Last-Modified (and its signature), so a
 * {@code per-boot} task asks {@code If-None-Match} and gets a 304 instead of the whole script. A copy from the
 * cache is verified again (digest, signature) exactly like a download. Best effort: a cache that cannot be
 * written only costs a download next time.
 */
final class HttpCache {
    private static final Logger LOG = LoggerFactory.getLogger(HttpCache.class);

    /** What is cached for one URL. */
    record Entry(Path body, Optional<String> etag, Optional<String> lastModified, Optional<byte[]> signature) {
        void addValidators(ClassicRequestBuilder get) {
            etag.ifPresent(e -> get.addHeader("If-None-Match", e));
            lastModified.ifPresent(l -> get.addHeader("If-Modified-Since", l));
        }
    }

    private final Path dir;

    HttpCache(Path dir) {
        this.dir = dir;
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
        Path meta = slot.resolve("meta.properties");
        Path body = slot.resolve("body");
        if (!Files.isRegularFile(meta) || !Files.isRegularFile(body)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(meta)) {
            p.load(in);
            if (!url.toString().equals(p.getProperty("url"))) {
                return Optional.empty();
            }
            Path sig = slot.resolve("sig");
            return Optional.of(new Entry(body, Optional.ofNullable(p.getProperty("etag")),
                    Optional.ofNullable(p.getProperty("last-modified")),
                    Files.isRegularFile(sig) ? Optional.of(Files.readAllBytes(sig)) : Optional.empty()));
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    void store(URI url, ClassicHttpResponse response, Path placed) {
        Header etag = response.getFirstHeader("ETag");
        Header lastModified = response.getFirstHeader("Last-Modified");
        if (etag == null && lastModified == null) {
            return; // nothing to revalidate with
        }
        Path slot = slot(url);
        try {
            Files.createDirectories(slot);
            Path tmp = UnusedFiles.create(slot, "body", ".tmp");
            Files.copy(placed, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, slot.resolve("body"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Properties p = new Properties();
            p.setProperty("url", url.toString());
            if (etag != null) {
                p.setProperty("etag", etag.getValue());
            }
            if (lastModified != null) {
                p.setProperty("last-modified", lastModified.getValue());
            }
            Path metaTmp = UnusedFiles.create(slot, "meta", ".tmp");
            try (OutputStream out = Files.newOutputStream(metaTmp)) {
                p.store(out, null);
            }
            Files.move(metaTmp, slot.resolve("meta.properties"), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            LOG.debug("could not cache {}: {}", url, e.toString());
        }
    }

    void storeSignature(URI url, byte[] sig) {
        try {
            Path slot = slot(url);
            Files.createDirectories(slot);
            Files.write(slot.resolve("sig"), sig);
        } catch (IOException e) {
            LOG.debug("could not cache the signature of {}: {}", url, e.toString());
        }
    }
}
