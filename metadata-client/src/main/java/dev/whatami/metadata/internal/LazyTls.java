package dev.whatami.metadata.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.client5.http.ssl.TlsSocketStrategy;
import org.apache.hc.core5.http.protocol.HttpContext;

/**
 * Builds the TLS stack on the first https connection, not when the client is built: starting it costs
 * ~200 ms of a boot that, with plain http scripts, never needs it. With a CA bundle (PEM), that bundle is the
 * trust store; otherwise the system's.
 */
public final class LazyTls implements TlsSocketStrategy {
    private final Optional<Path> caBundle;
    private volatile TlsSocketStrategy delegate;

    public LazyTls(Optional<Path> caBundle) {
        this.caBundle = caBundle;
    }

    @Override
    public SSLSocket upgrade(Socket socket, String target, int port, Object attachment, HttpContext httpContext)
            throws IOException {
        TlsSocketStrategy d = delegate;
        if (d == null) {
            synchronized (this) {
                if (delegate == null) {
                    delegate = caBundle.isPresent() ? new DefaultClientTlsStrategy(sslContext(caBundle.get()))
                            : DefaultClientTlsStrategy.createSystemDefault();
                }
                d = delegate;
            }
        }
        return d.upgrade(socket, target, port, attachment, httpContext);
    }

    /** An SSL context that trusts exactly the certificates in a PEM bundle. */
    static SSLContext sslContext(Path bundle) throws IOException {
        try (InputStream in = Files.newInputStream(bundle)) {
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certs.isEmpty()) {
                throw new IOException("the CA bundle " + bundle + " holds no certificate");
            }
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (Certificate c : certs) {
                store.setCertificateEntry("ca-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot load the CA bundle " + bundle + ": " + e.getMessage(), e);
        }
    }
}
