package dev.whatami.fetch;

import dev.whatami.userdata.Digest;
import dev.whatami.userdata.Redact;
import dev.whatami.userdata.ScriptName;
import java.net.URI;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * What to fetch and where to put it. Immutable; build with {@link #builder(URI, Path, String)}.
 *
 * @param url       primary URL: {@code http}, {@code https}, {@code file}, {@code s3://bucket/key[?versionId=]},
 *                  {@code gs://bucket/object}, or an Azure blob URL
 * @param mirrors   further URLs of the same file, tried in order after the primary in every round
 * @param digest    expected digest; a mismatch is refused. A sha256 is asked for by content address too
 *                  ({@code ?sha256=}, plain http(s) URLs without a query)
 * @param targetDir directory that receives the file (and its staging file, so the rename is atomic)
 * @param fileName  name of the file in {@code targetDir}: a {@link ScriptName} (never a path, never hidden)
 * @param maxBytes  largest file accepted
 * @param deadline  when the fetch gives up: no attempt starts after it and one in progress is aborted at it; empty:
 *                  the fetcher's {@code retryPolicy} deadline, counted from the start of the fetch
 * @param signature where the signature is ({@code sig=}); empty: {@code .sig} beside each URL, which is derived only
 *                  for URLs without a query string (and {@code s3://} URLs with a {@code versionId})
 */
public record FetchRequest(URI url, List<URI> mirrors, Optional<Digest> digest, Path targetDir, String fileName,
                           long maxBytes, Optional<Instant> deadline, Optional<SignatureSource> signature) {
    /** Default size cap: 64 MiB. */
    public static final long DEFAULT_MAX_BYTES = 64L << 20;

    public FetchRequest {
        Objects.requireNonNull(url, "url");
        mirrors = List.copyOf(mirrors);
        Objects.requireNonNull(digest, "digest");
        Objects.requireNonNull(targetDir, "targetDir");
        Objects.requireNonNull(fileName, "fileName");
        Objects.requireNonNull(deadline, "deadline");
        Objects.requireNonNull(signature, "signature");
        ScriptName.problem(fileName).ifPresent(problem -> {
            throw new IllegalArgumentException("fileName: " + problem);
        });
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be positive, got " + maxBytes);
        }
        for (URI u : allUrls(url, mirrors)) {
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            if (!List.of("http", "https", "file", "s3", "gs").contains(scheme)) {
                throw new IllegalArgumentException("only http, https, file, s3 and gs URLs can be fetched, got "
                        + Redact.url(u));
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

    /**
     * A builder for fetching {@code url} into {@code targetDir/fileName}.
     *
     * @param fileName a {@link ScriptName}: a plain file name, never a path, never hidden
     */
    public static Builder builder(URI url, Path targetDir, String fileName) {
        return new Builder(url, targetDir, fileName);
    }

    /** Builds {@link FetchRequest}s. Not thread-safe. */
    public static final class Builder {
        private final URI url;
        private final Path targetDir;
        private final String fileName;
        private final List<URI> mirrors = new ArrayList<>();
        private Optional<Digest> digest = Optional.empty();
        private long maxBytes = DEFAULT_MAX_BYTES;
        private Optional<Instant> deadline = Optional.empty();
        private Optional<SignatureSource> signature = Optional.empty();

        private Builder(URI url, Path targetDir, String fileName) {
            this.url = url;
            this.targetDir = targetDir;
            this.fileName = fileName;
        }

        /** Adds mirrors: URLs of the same file, tried in order after the primary. Default: none. */
        public Builder mirrors(List<URI> mirrors) {
            this.mirrors.addAll(mirrors);
            return this;
        }

        /**
         * The digest the bytes must have; a mismatch is refused ({@link IntegrityException}). A sha256 is also the
         * version asked for: a plain http(s) URL without a query is requested as {@code <url>?sha256=<hex>}, its
         * content address (a server that ignores the query sends the file; after a 404 or 410 it is asked for by
         * name). Default: none.
         */
        public Builder digest(Optional<Digest> digest) {
            this.digest = Objects.requireNonNull(digest);
            return this;
        }

        /** Largest file accepted, in bytes; a larger one is cut off and not fetched. Default: {@link #DEFAULT_MAX_BYTES}. */
        public Builder maxBytes(long maxBytes) {
            this.maxBytes = maxBytes;
            return this;
        }

        /**
         * When the fetch gives up (on the fetcher's clock): no attempt starts after it, an attempt in progress is
         * aborted at it, and no wait ({@code Retry-After} included) reaches past it. Default: none, which means the
         * fetcher's {@code retryPolicy(...)} deadline counted from the start of the fetch. When given, it replaces
         * that policy deadline.
         */
        public Builder deadline(Instant deadline) {
            this.deadline = Optional.of(Objects.requireNonNull(deadline, "deadline"));
            return this;
        }

        /**
         * Where the signature is, from the user-data's {@code sig=} ({@link SignatureSource#parse(String)}): used for
         * the URL and every mirror when trusted keys are configured, ignored otherwise. Default: none, so
         * {@code <url>.sig} is fetched beside each URL that has no query string, and a URL with one is refused.
         */
        public Builder signature(SignatureSource signature) {
            this.signature = Optional.of(Objects.requireNonNull(signature, "signature"));
            return this;
        }

        /** The request. @throws IllegalArgumentException for a bad file name, size or URL scheme */
        public FetchRequest build() {
            return new FetchRequest(url, mirrors, digest, targetDir, fileName, maxBytes, deadline, signature);
        }
    }
}
