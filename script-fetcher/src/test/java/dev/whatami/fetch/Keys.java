package dev.whatami.fetch;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Base64;

/** Ed25519 keys made in the test, with PEM and signing helpers. */
final class Keys {
    final KeyPair pair;

    Keys() throws Exception {
        pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    }

    String publicPem() {
        return "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(pair.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
    }

    byte[] sign(byte[] data) throws Exception {
        return sign(pair.getPrivate(), data);
    }

    static byte[] sign(PrivateKey key, byte[] data) throws Exception {
        Signature s = Signature.getInstance("Ed25519");
        s.initSign(key);
        s.update(data);
        return s.sign();
    }

    byte[] signBase64(byte[] data) throws Exception {
        return (Base64.getEncoder().encodeToString(sign(data)) + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}
