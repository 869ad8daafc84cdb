package dev.whatami.server.reports;

import java.io.ByteArrayOutputStream;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;

/**
 * Reads a request body without holding a thread while the client is slow: each chunk is taken when it arrives
 * ({@link Request#demand}), and {@link Done} is called once, on a pool thread, when the body has ended or failed. At
 * most {@code max} bytes are kept; past that, up to {@code drainLimit} more are read and dropped (so the client is not
 * reset before it reads the refusal), and the body is reported too large.
 */
final class BodyReader implements Runnable {
    /** What the body turned out to be. */
    interface Done {
        /** The whole body, at most {@code max} bytes. */
        void body(byte[] body);

        /** Longer than {@code max}; {@code drained} tells whether the rest was read to its end. */
        void tooLarge(boolean drained);

        /** The connection failed or timed out before the body ended. */
        void failed(Throwable cause);
    }

    private final Request request;
    private final int max;
    private final long drainLimit;
    private final Done done;
    private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
    private long total;

    private BodyReader(Request request, int max, long drainLimit, Done done) {
        this.request = request;
        this.max = max;
        this.drainLimit = drainLimit;
        this.done = done;
    }

    static void read(Request request, int max, long drainLimit, Done done) {
        new BodyReader(request, max, drainLimit, done).run();
    }

    @Override
    public void run() {
        while (true) {
            Content.Chunk chunk = request.read();
            if (chunk == null) {
                request.demand(this); // called again when more has arrived; no thread waits meanwhile
                return;
            }
            if (Content.Chunk.isFailure(chunk)) {
                done.failed(chunk.getFailure());
                return;
            }
            java.nio.ByteBuffer bytes = chunk.getByteBuffer();
            int n = bytes.remaining();
            if (total + n <= max) {
                byte[] copy = new byte[n];
                bytes.get(copy);
                kept.write(copy, 0, n);
            }
            total += n;
            boolean last = chunk.isLast();
            chunk.release();
            if (last) {
                if (total > max) {
                    done.tooLarge(true);
                } else {
                    done.body(kept.toByteArray());
                }
                return;
            }
            if (total > max + drainLimit) {
                done.tooLarge(false);
                return;
            }
        }
    }
}
