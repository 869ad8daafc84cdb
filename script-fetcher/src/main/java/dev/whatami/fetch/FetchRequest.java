package dev.whatami.fetch;

import dev.whatami.userdata.Digest;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * What to fetch and where to put it. Immutable; build with {@link #builder(URI, Path, String)}.
 *
 * @param url       primary URL ({@code http}, {@code https} or {@code file})
 * @param mirrors   further URLs of the same file, tried in order when the primary fails
 * @param digest    expected digest; a mismatch is refused
 * @param targetDir directory that receives the file (and its staging file, so the rename is atomic)
 * @param fileName  name of the file in {@code targetDir}; never a path
 * @param maxBytes  largest file accepted
 */
public record FetchRequest(URI url, List<URI> mirrors, Optional<Digest> digest, Path targetDir, String fileName,
                           long maxBytes) {
    /** Default size cap: 64 MiB. */
    public static final long DEFAULT_MAX_BYTES = 64L << 20;

    public FetchRequest {
        Objects.requireNonNull(url, "url");
        mirrors = List.copyOf(mirrors);
        Objects.requireNonNull(digest, "digest");
        Objects.requireNonNull(targetDir, "targetDir");
        Objects.requireNonNull(fileName, "fileName");
        if (fileName.isEmpty() || fileName.contains("/") || fileName.contains("\\") || fileName.startsWith(".")) {
            throw new IllegalArgumentException("fileName must be a plain file name, got \"" + fileName + "\"");
        }
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be positive, got " + maxBytes);
        }
        for (URI u : allUrls(url, mirrors)) {
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            if (!List.of("http", "https", "file").contains(scheme)) {
                throw new IllegalArgumentException("only http, https and file URLs can be fetched, got " + u);
            }
        }
    }

    /** The primary URL, then the mirrors. */
    public List<URI> allUrls() {
        return allUrls(url, mirrors);
    }

    private static List<URI> allUrls(URI url, List<URI> mirrors) {
        List<URI> all = new ArrayList<>(mirrors.size() + 1);
        all.add(url);
        all.addAll(mirrors);
        return all;
    }

    public static Builder builder(URI url, Path targetDir, String fileName) {
        return new Builder(url, targetDir, fileName);
    }

    /** Builds {@link FetchRequest}s. */
    public static final class Builder {
        private final URI url;
        private final Path targetDir;
        private final String fileName;
        private final List<URI> mirrors = new ArrayList<>();
        private Optional<Digest> digest = Optional.empty();
        private long maxBytes = DEFAULT_MAX_BYTES;

        private Builder(URI url, Path targetDir, String fileName) {
            this.url = url;
            this.targetDir = targetDir;
            this.fileName = fileName;
        }

        /** Adds mirrors, tried in order. Default: none. */
        public Builder mirrors(List<URI> mirrors) {
            this.mirrors.addAll(mirrors);
            return this;
        }

        /** Default: none. */
        public Builder digest(Optional<Digest> digest) {
            this.digest = Objects.requireNonNull(digest);
            return this;
        }

        /** Default: {@link #DEFAULT_MAX_BYTES}. */
        public Builder maxBytes(long maxBytes) {
            this.maxBytes = maxBytes;
            return this;
        }

        public FetchRequest build() {
            return new FetchRequest(url, mirrors, digest, targetDir, fileName, maxBytes);
        }
    }
}
