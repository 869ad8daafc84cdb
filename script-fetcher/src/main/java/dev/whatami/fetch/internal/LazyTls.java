package dev.whatami.fetch.internal;

import java.io.IOException;
import java.net.Socket;
import javax.net.ssl.SSLSocket;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.client5.http.ssl.TlsSocketStrategy;
import org.apache.hc.core5.http.protocol.HttpContext;

/**
 * Builds the TLS stack on the first https connection, not when the client is built: starting it costs
 * ~200 ms of a boot that, with plain http scripts, never needs it.
 */
final class LazyTls implements TlsSocketStrategy {
    private volatile TlsSocketStrategy delegate;

    @Override
    public SSLSocket upgrade(Socket socket, String target, int port, Object attachment, HttpContext context)
            throws IOException {
        TlsSocketStrategy d = delegate;
        if (d == null) {
            synchronized (this) {
                if (delegate == null) {
                    delegate = DefaultClientTlsStrategy.createSystemDefault();
                }
                d = delegate;
            }
        }
        return d.upgrade(socket, target, port, attachment, context);
    }
}
