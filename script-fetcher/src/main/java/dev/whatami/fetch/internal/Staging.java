package dev.whatami.fetch.internal;

import dev.whatami.fetch.TrustedKeys;
import dev.whatami.userdata.Digest;
import dev.whatami.userdata.DigestAlgorithm;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongConsumer;
import java.util.regex.Pattern;

/**
 * A staging file beside the target: bytes are hashed as they are written, the size is capped, and only
 * {@link #commit} makes the file appear at its final path. {@link #close} removes whatever was not committed; a
 * staging file left by a process that was killed is removed by {@link #removeStale} the next time its directory is
 * used. The one staging primitive of the fetcher: downloads, inline scripts and the cache's bodies all go through it.
 */
final class Staging implements AutoCloseable {
    static final Set<PosixFilePermission> EXECUTABLE = PosixFilePermissions.fromString("rwx------");
    static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rw-------");
    /** Names {@link UnusedFiles} gives staging and temp files: {@code .<name>.<hex>.part} or {@code .tmp}. */
    private static final Pattern STAGING_NAME = Pattern.compile("\\..+\\.[0-9a-f]{1,16}\\.(part|tmp)");

    /** The stream was longer than allowed. */
    static final class TooLargeException extends IOException {
        private static final long serialVersionUID = 1L;

        TooLargeException(String message) {
            super(message);
        }
    }

    /** This machine's disk failed us (full, read-only, gone), as opposed to the network. */
    static final class LocalIOException extends IOException {
        private static final long serialVersionUID = 1L;

        LocalIOException(String message, IOException cause) {
            super(message + ": " + cause.getMessage(), cause);
        }
    }

    private final Path path;
    private final FileChannel channel;
    private final Optional<Digest> pin;
    private final TrustedKeys keys;
    private final Set<Path> live;
    private MessageDigest sha256;
    private MessageDigest pinned;
    private final long maxBytes;
    private long size;
    private boolean committed;

    /**
     * @param live the staging files in use in this process: this one is added until it is closed or committed, so
     *             that {@link #removeStale} never removes it
     * @throws LocalIOException when the directory or the file cannot be created
     */
    Staging(Path targetDir, String fileName, Optional<Digest> pin, long maxBytes, TrustedKeys keys, Set<Path> live)
            throws LocalIOException {
        this.pin = pin;
        this.keys = keys;
        this.maxBytes = maxBytes;
        this.live = live;
        try {
            Files.createDirectories(targetDir);
            this.path = UnusedFiles.create(targetDir, "." + fileName, ".part");
        } catch (IOException e) {
            throw new LocalIOException("cannot create a staging file in " + targetDir, e);
        }
        live.add(path);
        try {
            this.channel = FileChannel.open(path, StandardOpenOption.WRITE);
        } catch (IOException e) {
            live.remove(path);
            deleteQuietly(path);
            throw new LocalIOException("cannot open the staging file " + path, e);
        }
        resetDigests();
    }

    /**
     * Removes staging and temp files in {@code dir} that no fetch in this process is using: what a killed download
     * left behind (the agent holds an exclusive lock, so no other process is writing there). Best effort.
     */
    static void removeStale(Path dir, Set<Path> live) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir,
                p -> STAGING_NAME.matcher(p.getFileName().toString()).matches())) {
            for (Path p : files) {
                if (!live.contains(p)) {
                    deleteQuietly(p);
                }
            }
        } catch (IOException e) {
            // best effort: a leftover only costs space
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // best effort
        }
    }

    /** Forgets everything written (the server ignored a Range request and sends the whole file again). */
    void restart() throws LocalIOException {
        try {
            channel.truncate(0);
            channel.position(0);
        } catch (IOException e) {
            throw new LocalIOException("cannot truncate the staging file " + path, e);
        }
        size = 0;
        resetDigests();
    }

    private void resetDigests() {
        sha256 = digest(DigestAlgorithm.SHA256);
        pinned = pin.filter(d -> d.algorithm() != DigestAlgorithm.SHA256).map(d -> digest(d.algorithm())).orElse(null);
    }

    /**
     * The name of the first trusted key whose signature of the staged bytes {@code sig} is. The bytes are read back
     * from the staging file (nothing of a script up to the size cap is held in memory) and must be the very bytes
     * hashed as they arrived, which the checks before it run compare with.
     *
     * @throws LocalIOException when the file cannot be read back, or its bytes are no longer those received
     */
    Optional<String> signer(byte[] sig) throws LocalIOException {
        MessageDigest again = digest(DigestAlgorithm.SHA256);
        Optional<String> signer;
        try (InputStream in = new DigestInputStream(Files.newInputStream(path), again)) {
            signer = keys.signer(sig, in);
        } catch (IOException e) {
            throw new LocalIOException("cannot read back the staging file " + path, e);
        }
        if (!MessageDigest.isEqual(again.digest(), cloneOf(sha256).digest())) {
            throw new LocalIOException("cannot check the signature of the staging file " + path, new IOException(
                    "its bytes changed on disk after they were received"));
        }
        return signer;
    }

    private static MessageDigest digest(DigestAlgorithm algorithm) {
        try {
            return MessageDigest.getInstance(algorithm.jcaName());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks " + algorithm.jcaName(), e);
        }
    }

    /** Below this, everything happens on the calling thread; above it, hashing runs beside the I/O. */
    static final long PIPELINE_AFTER = 4L << 20;
    private static final int BUFFER = 256 * 1024;

    /**
     * Copies the whole stream in (appending to what is there), hashing as it goes, reporting the size about once a
     * MiB. Small files are read, written and hashed on the calling thread. Once a download passes
     * {@link #PIPELINE_AFTER}, hashing moves to one helper thread so that it overlaps the network and disk: two
     * buffers alternate, and a buffer is reused only after its hashing is done.
     *
     * @throws TooLargeException before writing the byte that would pass the limit
     * @throws LocalIOException  when writing the staging file fails
     * @throws IOException       when reading {@code in} fails
     */
    void copyFrom(InputStream in, String what, LongConsumer progress) throws IOException {
        long lastReport = size;
        byte[][] buffers = {new byte[BUFFER], null};
        ExecutorService hasher = null;
        Future<?> pending = null;
        int k = 0;
        try {
            while (true) {
                byte[] buffer = buffers[k & 1];
                int n = in.read(buffer);
                if (n == -1) {
                    break;
                }
                if (size + n > maxBytes) {
                    throw new TooLargeException(what + " is larger than the " + maxBytes + "-byte limit");
                }
                write(buffer, n);
                size += n;
                if (hasher == null && size > PIPELINE_AFTER) {
                    hasher = Executors.newSingleThreadExecutor(r -> {
                        Thread t = new Thread(r, "whatami-hash");
                        t.setDaemon(true);
                        return t;
                    });
                    buffers[1] = new byte[BUFFER];
                }
                if (hasher == null) {
                    hash(buffer, n);
                } else {
                    await(pending); // the other buffer's hash: done before that buffer is read into again
                    int len = n;
                    pending = hasher.submit(() -> hash(buffer, len));
                    k++;
                }
                if (size - lastReport >= (1 << 20)) {
                    progress.accept(size);
                    lastReport = size;
                }
            }
            await(pending);
        } finally {
            if (hasher != null) {
                hasher.shutdownNow();
            }
        }
    }

    private void write(byte[] buffer, int n) throws LocalIOException {
        ByteBuffer wrapped = ByteBuffer.wrap(buffer, 0, n);
        try {
            while (wrapped.hasRemaining()) {
                channel.write(wrapped);
            }
        } catch (IOException e) {
            throw new LocalIOException("cannot write the staging file " + path, e);
        }
    }

    private void hash(byte[] buffer, int n) {
        sha256.update(buffer, 0, n);
        if (pinned != null) {
            pinned.update(buffer, 0, n);
        }
    }

    private static void await(Future<?> f) throws IOException {
        if (f == null) {
            return;
        }
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while hashing");
        } catch (ExecutionException e) {
            throw new IllegalStateException("hashing failed: " + e.getCause(), e.getCause());
        }
    }

    long size() {
        return size;
    }

    String sha256Hex() {
        return HexFormat.of().formatHex(cloneOf(sha256).digest());
    }

    /** The actual digest in the pinned digest's algorithm. */
    Digest actual(DigestAlgorithm algorithm) {
        MessageDigest md = algorithm == DigestAlgorithm.SHA256 ? sha256 : pinned;
        return new Digest(algorithm, HexFormat.of().formatHex(cloneOf(md).digest()));
    }

    private static MessageDigest cloneOf(MessageDigest md) {
        try {
            return (MessageDigest) md.clone();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** fsync, the given mode, atomic rename onto {@code target}, fsync of the directory. */
    void commit(Path target, Set<PosixFilePermission> mode) throws LocalIOException {
        commit(target, mode, true);
    }

    /**
     * The given mode, atomic rename onto {@code target}; with {@code durable}, fsync of the file before and of the
     * directory after (a copy that is verified by its digest whenever it is used, like the cache's, can skip both).
     */
    void commit(Path target, Set<PosixFilePermission> mode, boolean durable) throws LocalIOException {
        try {
            if (durable) {
                channel.force(true);
            }
            channel.close();
            try {
                Files.setPosixFilePermissions(path, mode);
            } catch (UnsupportedOperationException e) {
                path.toFile().setExecutable(mode.contains(PosixFilePermission.OWNER_EXECUTE), true);
            }
            Files.move(path, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new LocalIOException("cannot place " + target, e);
        }
        committed = true;
        live.remove(path);
        if (!durable) {
            return;
        }
        try (FileChannel dir = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
            dir.force(true); // make the rename itself durable
        } catch (IOException | UnsupportedOperationException e) {
            // some file systems cannot open a directory; the rename is still atomic
        }
    }

    @Override
    public void close() {
        try {
            if (channel.isOpen()) {
                channel.close();
            }
        } catch (IOException e) {
            // closing a file we only wrote: nothing to lose
        }
        if (!committed) {
            deleteQuietly(path);
            live.remove(path);
        }
    }
}
