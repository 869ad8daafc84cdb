package dev.whatami.run.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.commons.io.output.ProxyOutputStream;

/** Passes at most {@code max} bytes on, then drops the rest and says so once at close. */
final class CappedOutputStream extends ProxyOutputStream {
    private final long max;
    private long written;
    private long dropped;

    CappedOutputStream(OutputStream out, long max) {
        super(out);
        this.max = max;
    }

    @Override
    public void write(int b) throws IOException {
        if (written < max) {
            out.write(b);
            written++;
        } else {
            dropped++;
        }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        int keep = (int) Math.max(0, Math.min(len, max - written));
        if (keep > 0) {
            out.write(b, off, keep);
            written += keep;
        }
        dropped += len - keep;
    }

    @Override
    public void write(byte[] b) throws IOException {
        write(b, 0, b.length);
    }

    @Override
    public void close() throws IOException {
        if (dropped > 0) {
            out.write(("\n[whatami: output past " + max + " bytes dropped: " + dropped + " bytes]\n")
                    .getBytes(StandardCharsets.UTF_8));
        }
        super.close();
    }
}
