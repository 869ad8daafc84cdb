package dev.whatami.emulator;

import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;

/**
 * What a transport gives {@link MetadataService#serve}: a way to send the answer's head and body, and to cut the
 * connection. The emulator's own loopback server implements it, and so does the whatami server's Jetty adapter;
 * implement it to mount the emulator in another server. Used by one thread at a time.
 */
public interface EmulatorExchange {
    /**
     * Sends the status line and header fields.
     *
     * @param contentLength the body's length, or {@code -1} for a body of unknown length (chunked)
     */
    void sendHead(int status, List<Map.Entry<String, String>> headers, long contentLength) throws IOException;

    /** Where the body goes, after {@link #sendHead}. Closing it ends the answer. */
    OutputStream body() throws IOException;

    /** Cuts the connection at once, whatever was sent (a reset, where the transport can). */
    void abort();
}
