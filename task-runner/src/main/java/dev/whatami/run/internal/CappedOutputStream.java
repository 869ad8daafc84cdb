package dev.whatami.run.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.commons.io.output.ProxyOutputStream;

/**
 * Passes at most {@code max} bytes on, then drops the rest and says so once at close. It never throws on write: when
 * the file cannot take more (a full disk), the rest is dropped and counted, because a log stream that throws would
 * stop the pump that drains the script's pipe, and the script would block for ever on its next write.
 */
final class CappedOutputStream extends ProxyOutputStream {
    private final long max;
    private long written;
    private long dropped;
    private IOException failure;

    CappedOutputStream(OutputStream out, long max) {
        super(out);
        this.max = max;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        int keep = failure != null ? 0 : (int) Math.max(0, Math.min(len, max - written));
        if (keep > 0) {
            try {
                out.write(b, off, keep);
                written += keep;
            } catch (IOException e) {
                failure = e;
                keep = 0;
            }
        }
        dropped += len - keep;
    }

    @Override
    public void write(byte[] b) throws IOException {
        write(b, 0, b.length);
    }

    @Override
    public void flush() {
        if (failure == null) {
            try {
                out.flush();
            } catch (IOException e) {
                failure = e;
            }
        }
    }

    /** Why writing stopped, if it did (e.g. no space left on the log disk). */
    IOException failure() {
        return failure;
    }

    @Override
    public void close() throws IOException {
        try {
            if (dropped > 0) {
                String why = failure != null ? "could not be written (" + failure.getMessage() + ")"
                        : "past " + max + " bytes dropped";
                out.write(("\n[whatami: output " + why + ": " + dropped + " bytes]\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            // the disk is still full: the count is in the task's result instead
        } finally {
            try {
                // not super.close(): commons-io's ProxyOutputStream closes through a lambda of its IOConsumer, an
                // interface with a static initialiser, which JDK 25 cannot keep in an AOT cache: every boot built it anew
                out.close();
            } catch (IOException e) {
                // closing a file on a full disk: nothing left to lose
            }
        }
    }
}
