package dev.whatami.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http.CompressedContentFormat;
import org.eclipse.jetty.http.DateGenerator;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.MimeTypes;
import org.eclipse.jetty.http.PreEncodedHttpField;
import org.eclipse.jetty.http.content.HttpContent;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.resource.Resource;

/**
 * The served files, each response bound to one version of its file: what Jetty's own content cache is not. Its
 * cache keeps a file's length and validators from one moment and, once an upload has evicted the entry, streams
 * whatever the path holds at another — the old version for up to a second after a {@code PUT}, or a 500 ("written N
 * &lt; M content-length") when the new version is shorter.
 *
 * <p>Here every request costs one {@code stat}: a file no larger than {@code maxFileBytes} is served from a snapshot
 * of its bytes taken while its identity (inode, size, modification time) stayed the same, and the snapshot is reused
 * only while the path still has that identity. An upload renames a new inode over the path, so the next request after
 * the {@code PUT} answered always sees the new file whole. The ETag of a snapshot is the SHA-256 of the bytes sent —
 * strong, the same on every server holding the same file, and never describing other bytes. Larger files are streamed
 * from a channel opened after the headers were computed and checked to be the same inode; if the file was replaced
 * in between, the response is aborted rather than spliced.
 *
 * <p>Thread-safe. Bounded: at most {@code maxTotalBytes} of snapshots are kept (direct memory); past that, files are
 * streamed.
 */
final class FileSnapshots implements HttpContent.Factory {
    private final HttpContent.Factory authority;
    private final ByteBufferPool.Sized pool;
    private final long maxFileBytes;
    private final long maxTotalBytes;
    private final ConcurrentHashMap<String, Snapshot> cache = new ConcurrentHashMap<>();
    private final AtomicLong cachedBytes = new AtomicLong();
    private final Path copies;

    /**
     * @param copies where the private copies of larger snapshots are made (then unlinked at once: they live in the
     *     page cache); null keeps every snapshot in direct memory
     */
    FileSnapshots(HttpContent.Factory authority, ByteBufferPool.Sized pool, long maxFileBytes, long maxTotalBytes,
            Path copies) {
        this.copies = copies;
        this.authority = authority;
        this.pool = pool;
        this.maxFileBytes = maxFileBytes;
        this.maxTotalBytes = maxTotalBytes;
    }

    @Override
    public HttpContent getContent(String path) throws IOException {
        Snapshot kept = cache.get(path);
        if (kept != null) {
            if (kept.identity.equals(Identity.of(kept.file))) {
                return kept;
            }
            forget(path, kept);
        }
        HttpContent content = authority.getContent(path);
        if (content == null) {
            return null;
        }
        Resource resource = content.getResource();
        Path file = resource.getPath();
        if (file == null || resource.isDirectory()) {
            return content;
        }
        return load(path, content, file);
    }

    private void forget(String path, Snapshot snapshot) {
        if (cache.remove(path, snapshot)) {
            cachedBytes.addAndGet(-snapshot.length);
        }
    }

    private HttpContent load(String path, HttpContent content, Path file) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Identity before = Identity.of(file);
            if (before == null) {
                return null; // gone between the lookup and now: 404
            }
            if (before.size > maxFileBytes || cachedBytes.get() + before.size > maxTotalBytes) {
                return new Streamed(content, file, before, pool);
            }
            Memory memory = Memory.allocate((int) before.size, copies);
            ByteBuffer bytes = memory.bytes();
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                while (bytes.hasRemaining() && ch.read(bytes) >= 0) {
                    // fill
                }
                if (!bytes.hasRemaining() && ch.read(ByteBuffer.allocate(1)) > 0) {
                    bytes.clear().limit(0); // grew while read: not this identity
                }
            } catch (NoSuchFileException e) {
                memory.release();
                return null;
            } catch (IOException | RuntimeException e) {
                memory.release();
                throw e;
            }
            bytes.flip();
            Identity after = Identity.of(file);
            boolean whole = before.equals(after) && bytes.remaining() == after.size;
            if (whole || attempt >= 4) {
                // after five tries of a file rewritten faster than it can be read, send the last bytes read (their
                // own length and ETag, so still a consistent response) without keeping them
                Snapshot s = new Snapshot(content, file, after == null ? before : after, bytes.asReadOnlyBuffer(),
                        memory.copy());
                if (whole && cache.putIfAbsent(path, s) == null) {
                    cachedBytes.addAndGet(s.length);
                }
                return s;
            }
            memory.release();
        }
    }

    /**
     * A snapshot's bytes. Small ones in direct memory; from {@link ZeroCopyEndPoint#MIN_BYTES} on, in a private file
     * of the server's own (created in {@code copies}, unlinked at once, mapped into memory): the same bytes, which
     * nobody else can change, so they can also be sent with {@code sendfile}. Where no such file can be made, direct
     * memory.
     */
    record Memory(ByteBuffer bytes, FileChannel copy) {
        static Memory allocate(int size, Path copies) {
            if (size >= ZeroCopyEndPoint.MIN_BYTES && copies != null) {
                FileChannel ch = null;
                try {
                    Path f = Files.createTempFile(copies, ".whatami-snapshot-", "");
                    try {
                        ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE);
                    } finally {
                        Files.delete(f);
                    }
                    // written out in full before it is mapped: a file system without room says so here, as an
                    // IOException, rather than later as a fault on a store into the mapping
                    ByteBuffer zeros = ByteBuffer.allocateDirect(Math.min(size, 64 * 1024));
                    for (long at = 0; at < size; ) {
                        zeros.clear().limit((int) Math.min(zeros.capacity(), size - at));
                        at += ch.write(zeros, at);
                    }
                    return new Memory(ch.map(FileChannel.MapMode.READ_WRITE, 0, size), ch);
                } catch (IOException | UnsupportedOperationException e) {
                    if (ch != null) {
                        try {
                            ch.close();
                        } catch (IOException ignored) {
                            // nothing was written to it
                        }
                    }
                    // no room or no temporary directory: the bytes stay in memory, and are copied when sent
                }
            }
            return new Memory(ByteBuffer.allocateDirect(size), null);
        }

        /** For bytes not kept: closes the private file (its mapping goes with the buffer). */
        void release() {
            if (copy != null) {
                try {
                    copy.close();
                } catch (IOException ignored) {
                    // read-only use from here on: nothing to lose
                }
            }
        }
    }

    /** What identifies one version of a file: which inode, how long, last modified when. */
    record Identity(Object fileKey, long size, long modifiedNanos) {
        static Identity of(Path file) throws IOException {
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(file, BasicFileAttributes.class);
            } catch (NoSuchFileException e) {
                return null;
            }
            if (!a.isRegularFile()) {
                return null;
            }
            return new Identity(a.fileKey(), a.size(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS));
        }

        Instant modified() {
            return Instant.EPOCH.plusNanos(modifiedNanos).truncatedTo(ChronoUnit.SECONDS);
        }
    }

    /** Headers common to both kinds: type from the name, validators from the version. */
    private abstract static class Version implements HttpContent {
        final HttpContent named;
        final Path file;
        final Identity identity;
        final long length;
        final HttpField contentLength;
        final HttpField lastModified;
        final HttpField etag;

        final Resource resource;

        Version(HttpContent named, Path file, Identity identity, long length, String etag) {
            this.named = named;
            this.resource = new RegularFile(named.getResource());
            this.file = file;
            this.identity = identity;
            this.length = length;
            this.contentLength = new PreEncodedHttpField(HttpHeader.CONTENT_LENGTH, length);
            this.lastModified = new PreEncodedHttpField(HttpHeader.LAST_MODIFIED,
                    DateGenerator.formatDate(identity.modified()));
            this.etag = new PreEncodedHttpField(HttpHeader.ETAG, etag);
        }

        @Override
        public HttpField getContentType() {
            return named.getContentType();
        }

        @Override
        public HttpField getContentEncoding() {
            return null;
        }

        @Override
        public HttpField getContentLength() {
            return contentLength;
        }

        @Override
        public HttpField getLastModified() {
            return lastModified;
        }

        @Override
        public HttpField getETag() {
            return etag;
        }

        @Override
        public String getCharacterEncoding() {
            return named.getCharacterEncoding();
        }

        @Override
        public MimeTypes.Type getMimeType() {
            return named.getMimeType();
        }

        @Override
        public Instant getLastModifiedInstant() {
            return identity.modified();
        }

        @Override
        public long getContentLengthValue() {
            return length;
        }

        @Override
        public Resource getResource() {
            return resource; // for the alias (symlink) check: which file the path names
        }

        @Override
        public Set<CompressedContentFormat> getPreCompressedContentFormats() {
            return Set.of();
        }
    }

    /**
     * The named resource, known to be a regular file: this version's identity was read from a regular file, and
     * the version is used only while the path still has that identity. Saves the two {@code stat} calls a request
     * would otherwise make to ask whether it names a directory (the resource handler asks, and so does
     * {@link ScriptFiles}); everything else, the alias (symlink) check included, is the named resource's.
     */
    static final class RegularFile extends Resource {
        private final Resource named;

        RegularFile(Resource named) {
            this.named = named;
        }

        @Override
        public boolean isDirectory() {
            return false;
        }

        @Override
        public Path getPath() {
            return named.getPath();
        }

        @Override
        public boolean isContainedIn(Resource container) {
            return named.isContainedIn(container);
        }

        @Override
        public boolean contains(Resource other) {
            return named.contains(other);
        }

        @Override
        public Path getPathTo(Resource other) {
            return named.getPathTo(other);
        }

        @Override
        public boolean exists() {
            return named.exists();
        }

        @Override
        public boolean isReadable() {
            return named.isReadable();
        }

        @Override
        public Instant lastModified() {
            return named.lastModified();
        }

        @Override
        public long length() {
            return named.length();
        }

        @Override
        public java.net.URI getURI() {
            return named.getURI();
        }

        @Override
        public String getName() {
            return named.getName();
        }

        @Override
        public String getFileName() {
            return named.getFileName();
        }

        @Override
        public java.io.InputStream newInputStream() throws IOException {
            return named.newInputStream();
        }

        @Override
        public java.nio.channels.ReadableByteChannel newReadableByteChannel() throws IOException {
            return named.newReadableByteChannel();
        }

        @Override
        public java.util.List<Resource> list() {
            return java.util.List.of();
        }

        @Override
        public Resource resolve(String subUriPath) {
            return named.resolve(subUriPath);
        }

        @Override
        public boolean isAlias() {
            return named.isAlias();
        }

        @Override
        public java.net.URI getRealURI() {
            return named.getRealURI();
        }

        @Override
        public void copyTo(Path destination) throws IOException {
            named.copyTo(destination);
        }

        @Override
        public boolean isSameFile(Path path) {
            return named.isSameFile(path);
        }

        @Override
        public String toString() {
            return named.toString();
        }
    }

    /** A small file's bytes, read whole while its identity held. */
    static final class Snapshot extends Version {
        private final ByteBuffer bytes;
        /** The same bytes in a file nobody else can change, or null. */
        private final FileChannel copy;
        /** The SHA-256 of the bytes, in lower-case hex; the ETag is its first half. */
        final String sha256;

        Snapshot(HttpContent named, Path file, Identity identity, ByteBuffer bytes, FileChannel copy) {
            this(named, file, identity, bytes, copy, sha256(bytes));
        }

        private Snapshot(HttpContent named, Path file, Identity identity, ByteBuffer bytes, FileChannel copy,
                String sha256) {
            super(named, file, identity, bytes.remaining(), "\"" + sha256.substring(0, 32) + "\"");
            this.bytes = bytes;
            this.copy = copy;
            this.sha256 = sha256;
        }

        @Override
        public void writeTo(Content.Sink sink, long offset, long length, Callback callback) {
            long len = length < 0 ? this.length - offset : length;
            if (offset < 0 || offset > this.length || len > this.length - offset) {
                callback.failed(new IllegalArgumentException("range " + offset + "+" + len + " outside " + this.length));
                return;
            }
            ByteBuffer body = bytes.slice((int) offset, (int) len);
            // sendfile only for plain HTTP/1.x, where the body goes out as it is; HTTP/2 frames it
            if (copy != null && len >= ZeroCopyEndPoint.MIN_BYTES && sink instanceof Response response
                    && response.getRequest().getConnectionMetaData().getHttpVersion().getVersion() < 20
                    && response.getRequest().getConnectionMetaData().getConnection().getEndPoint()
                            instanceof ZeroCopyEndPoint endPoint) {
                endPoint.offer(body, copy, offset);
            }
            sink.write(true, body, callback);
        }

        private static String sha256(ByteBuffer bytes) {
            try {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                md.update(bytes.duplicate());
                return HexFormat.of().formatHex(md.digest());
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JDK has SHA-256", e);
            }
        }
    }

    /**
     * A large file, streamed. The ETag is its modification time and length (as nginx's): strong for files replaced
     * by rename, as uploads are.
     */
    static final class Streamed extends Version {
        private final ByteBufferPool.Sized pool;

        Streamed(HttpContent named, Path file, Identity identity, ByteBufferPool.Sized pool) {
            super(named, file, identity, identity.size,
                    // fixed-width hex, no separator: Jetty reads text after '-' in an ETag as a content-coding suffix
                    String.format("\"%016x%016x\"", identity.modifiedNanos, identity.size));
            this.pool = pool;
        }

        @Override
        public void writeTo(Content.Sink sink, long offset, long length, Callback callback) {
            FileChannel ch;
            try {
                ch = FileChannel.open(file, StandardOpenOption.READ);
                if (!identity.equals(Identity.of(file)) || ch.size() != identity.size) {
                    ch.close();
                    callback.failed(new IOException("the file was replaced while its response was being sent; "
                            + "the client should ask again"));
                    return;
                }
            } catch (IOException e) {
                callback.failed(e);
                return;
            }
            long len = length < 0 ? identity.size - offset : length;
            Content.copy(Content.Source.from(pool, ch, offset, len), sink, Callback.from(() -> {
                try {
                    ch.close();
                } catch (IOException e) {
                    // read-only channel; nothing was lost
                }
            }, callback));
        }
    }
}
