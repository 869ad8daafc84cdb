package dev.whatami.fetch.internal;

import dev.whatami.userdata.Digest;
import dev.whatami.userdata.DigestAlgorithm;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
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
import java.util.concurrent.ThreadLocalRandom;

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
        Path p;
        FileChannel c;
        while (true) {
            p = targetDir.resolve("." + fileName + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
                    + ".part");
            try {
                c = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                break;
            } catch (FileAlreadyExistsException e) {
                // another fetch chose the same name; pick again
            }
        }
        this.path = p;
        this.channel = c;
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

    /** Copies the whole stream in (appending to what is there), hashing as it goes, reporting the size. */
    void copyFrom(InputStream in, String what, java.util.function.LongConsumer progress) throws IOException {
        long lastReport = size;
        byte[] buffer = new byte[64 * 1024];
        ByteBuffer wrapped = ByteBuffer.wrap(buffer);
        int n;
        while ((n = in.read(buffer)) != -1) {
            if (size + n > maxBytes) {
                throw new TooLargeException(what + " is larger than the " + maxBytes + "-byte limit");
            }
            sha256.update(buffer, 0, n);
            if (pinned != null) {
                pinned.update(buffer, 0, n);
            }
            for (dev.whatami.fetch.TrustedKeys.Verifier v : verifiers) {
                v.update(buffer, 0, n);
            }
            wrapped.clear().limit(n);
            while (wrapped.hasRemaining()) {
                channel.write(wrapped);
            }
            size += n;
            if (size - lastReport >= (1 << 20)) {
                progress.accept(size);
                lastReport = size;
            }
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
