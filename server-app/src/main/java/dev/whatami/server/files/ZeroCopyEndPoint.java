package dev.whatami.server.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import org.eclipse.jetty.http2.HTTP2Connection;
import org.eclipse.jetty.io.EofException;
import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * A plain TCP connection that can send a file's bytes with {@code sendfile(2)} ({@link FileChannel#transferTo})
 * instead of copying them from memory into the socket: for a 1 MiB script that copy is a third of the server's
 * work, and nginx does not make it.
 *
 * <p>Jetty writes only {@link ByteBuffer}s. A response body that is also a file's bytes is announced with
 * {@link #offer}: this buffer instance, from index 0, holds the same bytes as this file from this offset. When
 * Jetty then flushes that very buffer (identity, not contents, is compared), the bytes between its position and
 * limit are sent from the file and the position is advanced, exactly as a {@code write} of the buffer would have
 * done; any other buffer, or the same one once the file channel is closed, is written as usual. So this is never
 * wrong, only sometimes not faster: under TLS or HTTP/2 Jetty flushes buffers of its own and the copy is made (and over HTTP/2 the
 * offer is not even made, nor used: see {@link #isHttp1}).
 *
 * <p>The caller keeps the promise that makes this safe: the file never changes while the buffer may be written
 * ({@link FileSnapshots} sends from a private copy of its own, not from the served file). One offer at a time per
 * connection (HTTP/1.1 sends one response at a time); a newer offer replaces the older. Thread-safe as Jetty's
 * endpoint is: flushes are serialized by its write flusher.
 *
 * <p>Public for {@code ScriptServer}, whose connector makes one per connection; not an API.
 */
public final class ZeroCopyEndPoint extends SocketChannelEndPoint {
    /** Below this many bytes a copy is cheaper than the extra system call. */
    static final int MIN_BYTES = 64 * 1024;

    private record Offer(ByteBuffer buffer, FileChannel file, long offset) {
    }

    private volatile Offer offer;

    public ZeroCopyEndPoint(SocketChannel channel, ManagedSelector selector, SelectionKey key, Scheduler scheduler) {
        super(channel, selector, key, scheduler);
    }

    /** Announces that {@code buffer}'s byte at index {@code i} is {@code file}'s byte at {@code offset + i}. */
    void offer(ByteBuffer buffer, FileChannel file, long offset) {
        this.offer = new Offer(buffer, file, offset);
    }

    @Override
    public boolean flush(ByteBuffer... buffers) throws IOException {
        Offer o = offer;
        int at = o == null ? -1 : indexOf(buffers, o.buffer);
        if (at < 0 || o.buffer.remaining() < MIN_BYTES || !o.file.isOpen() || !isHttp1()) {
            return super.flush(buffers);
        }
        if (at > 0 && !super.flush(Arrays.copyOfRange(buffers, 0, at))) {
            return false; // the headers before the body are not all out yet
        }
        ByteBuffer body = o.buffer;
        long sent;
        try {
            sent = o.file.transferTo(o.offset + body.position(), body.remaining(), getChannel());
        } catch (IOException e) {
            // the socket failed, or the file channel was closed under the transfer (an interrupt at shutdown): how
            // much was sent is not known, so this connection cannot go on
            throw new EofException(e);
        }
        if (sent > 0) {
            body.position(body.position() + (int) sent);
            notIdle();
        }
        if (body.hasRemaining()) {
            return false;
        }
        return at == buffers.length - 1 || super.flush(Arrays.copyOfRange(buffers, at + 1, buffers.length));
    }

    /**
     * Whether this connection speaks plain HTTP/1.x now. Only there is a body buffer written as it is, with nothing
     * of the protocol's own between its bytes; an HTTP/2 connection (also one upgraded from HTTP/1.1 by h2c, where the
     * same endpoint changes protocol mid-connection) frames the body and is always written by copy.
     */
    private boolean isHttp1() {
        return !(getConnection() instanceof HTTP2Connection);
    }

    private static int indexOf(ByteBuffer[] buffers, ByteBuffer wanted) {
        for (int i = 0; i < buffers.length; i++) {
            if (buffers[i] == wanted) {
                return i;
            }
        }
        return -1;
    }
}
