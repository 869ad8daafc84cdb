package dev.whatami.server.access;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import java.util.List;

/**
 * Turns the TLS files an operator has (PEM certificate chain + PKCS#8 key, or PKCS#12) into a key store.
 *
 * <p>Public for {@code ScriptServer} and {@code WhatamiServer}; not an API.
 */
public final class TlsFiles {
    /** The in-memory store's password: it never leaves this process. */
    public static final String PASSWORD = "whatami";

    private TlsFiles() {
    }

    /** A PEM certificate chain (leaf first) and its PKCS#8 PEM private key. */
    public static KeyStore fromPem(Path certFile, Path keyFile) throws IOException {
        Collection<? extends Certificate> chain;
        try (InputStream in = Files.newInputStream(certFile)) {
            chain = CertificateFactory.getInstance("X.509").generateCertificates(in);
        } catch (GeneralSecurityException e) {
            throw new IOException("--tls-cert " + certFile + " is not a PEM certificate: " + e.getMessage(), e);
        }
        if (chain.isEmpty()) {
            throw new IOException("--tls-cert " + certFile + " holds no certificate");
        }
        String pem = Files.readString(keyFile, StandardCharsets.US_ASCII);
        if (pem.contains("BEGIN RSA PRIVATE KEY") || pem.contains("BEGIN EC PRIVATE KEY")
                || pem.contains("BEGIN ENCRYPTED PRIVATE KEY")) {
            throw new IOException("--tls-key " + keyFile + " is not an unencrypted PKCS#8 key; convert it: openssl "
                    + "pkcs8 -topk8 -nocrypt -in " + keyFile + " -out key.pk8.pem");
        }
        if (!pem.contains("-----BEGIN PRIVATE KEY-----")) {
            throw new IOException("--tls-key " + keyFile + " holds no -----BEGIN PRIVATE KEY----- block");
        }
        byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----(BEGIN|END) PRIVATE KEY-----", "").strip());
        PrivateKey key = null;
        for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448")) {
            try {
                key = KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
                break;
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        if (key == null) {
            throw new IOException("--tls-key " + keyFile + " is not an RSA, EC or EdDSA private key");
        }
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("server", key, PASSWORD.toCharArray(), chain.toArray(new Certificate[0]));
            return ks;
        } catch (GeneralSecurityException e) {
            throw new IOException("the key in " + keyFile + " does not go with the certificate in " + certFile + ": "
                    + e.getMessage(), e);
        }
    }
}
