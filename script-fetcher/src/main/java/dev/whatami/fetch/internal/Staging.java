package dev.whatami.fetch.internal;

import dev.whatami.userdata.Digest;
import dev.whatami.userdata.DigestAlgorithm;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;

/**
 * A staging file beside the target: bytes are hashed as they are written, the size is capped, and only
 * {@link #commit} makes the file appear at its final path. {@link #close} removes whatever was not committed.
 */
final class Staging implements AutoCloseable {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    /** The stream was longer than allowed. */
    static final class TooLargeException extends IOException {
        private static final long serialVersionUID = 1L;

        TooLargeException(String message) {
            super(message);
        }
    }

    private final Path path;
    private final FileChannel channel;
    private final Optional<Digest> pin;
    private final dev.whatami.fetch.TrustedKeys keys;
    private MessageDigest sha256;
    private MessageDigest pinned;
    private java.util.List<dev.whatami.fetch.TrustedKeys.Verifier> verifiers;
    private final long maxBytes;
    private long size;
    private boolean committed;

    Staging(Path targetDir, String fileName, Optional<Digest> pin, long maxBytes) throws IOException {
        this(targetDir, fileName, pin, maxBytes, dev.whatami.fetch.TrustedKeys.none());
    }

    Staging(Path targetDir, String fileName, Optional<Digest> pin, long maxBytes, dev.whatami.fetch.TrustedKeys keys)
            throws IOException {
        Files.createDirectories(targetDir);
        this.path = UnusedFiles.create(targetDir, "." + fileName, ".part");
        this.channel = FileChannel.open(path, StandardOpenOption.WRITE);
        this.pin = pin;
        this.keys = keys;
        this.maxBytes = maxBytes;
        restart();
    }

    /** Forgets everything written (the server ignored a Range request and sends the whole file again). */
    void restart() throws IOException {
        channel.truncate(0);
        channel.position(0);
        size = 0;
        sha256 = digest(DigestAlgorithm.SHA256);
        pinned = pin.filter(d -> d.algorithm() != DigestAlgorithm.SHA256).map(d -> digest(d.algorithm())).orElse(null);
        verifiers = keys.verifiers();
    }

    /** The signature verifiers, fed with every byte written. */
    java.util.List<dev.whatami.fetch.TrustedKeys.Verifier> verifiers() {
        return verifiers;
    }

    private static MessageDigest digest(DigestAlgorithm algorithm) {
        try {
            return MessageDigest.getInstance(algorithm.jcaName());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks " + algorithm.jcaName(), e);
        }
    }

    /** Copies the whole stream in, hashing as it goes. */
    void copyFrom(InputStream in, String what) throws IOException {
        copyFrom(in, what, n -> { });
    }

    /** Below this, everything happens on the calling thread; above it, hashing runs beside the I/O. */
    static final long PIPELINE_AFTER = 4L << 20;
    private static final int BUFFER = 256 * 1024;

    /**
     * Copies the whole stream in (appending to what is there), hashing as it goes, reporting the size. Small
     * files are read, written and hashed on the calling thread. Once a download passes
     * {@link #PIPELINE_AFTER}, hashing moves to one helper thread so that it overlaps the network and disk:
     * two buffers alternate, and a buffer is reused only after its hashing is done.
     */
    void copyFrom(InputStream in, String what, java.util.function.LongConsumer progress) throws IOException {
        long lastReport = size;
        byte[][] buffers = {new byte[BUFFER], null};
        java.util.concurrent.ExecutorService hasher = null;
        java.util.concurrent.Future<?> pending = null;
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
                    hasher = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
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

    private void write(byte[] buffer, int n) throws IOException {
        ByteBuffer wrapped = ByteBuffer.wrap(buffer, 0, n);
        while (wrapped.hasRemaining()) {
            channel.write(wrapped);
        }
    }

    private void hash(byte[] buffer, int n) {
        sha256.update(buffer, 0, n);
        if (pinned != null) {
            pinned.update(buffer, 0, n);
        }
        for (dev.whatami.fetch.TrustedKeys.Verifier v : verifiers) {
            v.update(buffer, 0, n);
        }
    }

    private static void await(java.util.concurrent.Future<?> f) throws IOException {
        if (f == null) {
            return;
        }
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while hashing");
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException("hashing failed: " + e.getCause(), e.getCause());
        }
    }

    long size() {
        return size;
    }

    String sha256Hex() {
        return HexFormat.of().formatHex(((MessageDigest) cloneOf(sha256)).digest());
    }

    /** The actual digest in the pinned digest's algorithm. */
    Digest actual(DigestAlgorithm algorithm) {
        MessageDigest md = algorithm == DigestAlgorithm.SHA256 ? sha256 : pinned;
        return new Digest(algorithm, HexFormat.of().formatHex(((MessageDigest) cloneOf(md)).digest()));
    }

    private static Object cloneOf(MessageDigest md) {
        try {
            return md.clone();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** fsync, mode 0700, atomic rename onto {@code target}. */
    void commit(Path target) throws IOException {
        channel.force(true);
        channel.close();
        try {
            Files.setPosixFilePermissions(path, OWNER_ONLY);
        } catch (UnsupportedOperationException e) {
            path.toFile().setExecutable(true, true);
        }
        Files.move(path, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        committed = true;
        try (FileChannel dir = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
            dir.force(true); // make the rename itself durable
        } catch (IOException | UnsupportedOperationException e) {
            // some file systems cannot open a directory; the rename is still atomic
        }
    }

    @Override
    public void close() throws IOException {
        if (channel.isOpen()) {
            channel.close();
        }
        if (!committed) {
            Files.deleteIfExists(path);
        }
    }
}
