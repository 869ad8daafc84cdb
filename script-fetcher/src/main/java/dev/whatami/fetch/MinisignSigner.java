package dev.whatami.fetch;

import dev.whatami.fetch.internal.Blake2b;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;

/**
 * An Ed25519 secret key in minisign's format, unencrypted (what {@code minisign -G -W} writes), that signs files the
 * way {@code minisign -S} does: prehashed ({@code ED}, Ed25519 over BLAKE2b-512 of the bytes) with a trusted comment.
 * For the tools that make manifests ({@code whatami-server manifest}); an agent only verifies. Immutable,
 * thread-safe. Its {@link #toString()} never shows the secret.
 */
public final class MinisignSigner {
    private static final byte[] PKCS8_PREFIX = HexFormat.of().parseHex("302e020100300506032b657004220420");

    private final byte[] seed;
    private final MinisignKey publicKey;
    private final PrivateKey privateKey;

    private MinisignSigner(byte[] id, byte[] seed, byte[] raw) {
        this.seed = seed.clone();
        this.publicKey = MinisignKey.of(id, raw);
        byte[] der = Arrays.copyOf(PKCS8_PREFIX, PKCS8_PREFIX.length + 32);
        System.arraycopy(seed, 0, der, PKCS8_PREFIX.length, 32);
        try {
            this.privateKey = KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot read an Ed25519 key: " + e.getMessage(), e);
        }
    }

    /** A new key with a random id. */
    public static MinisignSigner generate() {
        try {
            KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            byte[] pkcs8 = pair.getPrivate().getEncoded();
            byte[] x509 = pair.getPublic().getEncoded();
            byte[] id = new byte[8];
            new SecureRandom().nextBytes(id);
            return new MinisignSigner(id, Arrays.copyOfRange(pkcs8, pkcs8.length - 32, pkcs8.length),
                    Arrays.copyOfRange(x509, x509.length - 32, x509.length));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot make an Ed25519 key: " + e.getMessage(), e);
        }
    }

    /**
     * Parses an unencrypted minisign secret key file ({@code minisign -G -W}, or {@link #secretKeyFileText()}).
     *
     * @param where names the text in messages
     * @throws IllegalArgumentException when it is not one, or is encrypted, saying what to do
     */
    public static MinisignSigner parse(String text, String where) {
        Objects.requireNonNull(text, "text");
        String line = null;
        for (String l : text.split("\n")) {
            String s = l.strip();
            if (!s.isEmpty() && !s.startsWith("untrusted comment:")) {
                line = s;
                break;
            }
        }
        byte[] b;
        try {
            b = line == null ? new byte[0] : Base64.getDecoder().decode(line);
        } catch (IllegalArgumentException e) {
            b = new byte[0];
        }
        if (b.length != 158 || b[0] != 'E' || b[1] != 'd' || b[4] != 'B' || b[5] != '2') {
            throw new IllegalArgumentException(where + " is not a minisign secret key; make one with whatami-server "
                    + "manifest keygen, or minisign -G -W");
        }
        if (b[2] != 0 || b[3] != 0) {
            throw new IllegalArgumentException(where + " is an encrypted minisign secret key, which this tool cannot "
                    + "open; sign with minisign itself (minisign -S -s KEY -m FILE), or make an unencrypted key for "
                    + "it (minisign -G -W)");
        }
        byte[] id = Arrays.copyOfRange(b, 54, 62);
        byte[] sk = Arrays.copyOfRange(b, 62, 126);
        byte[] checksum = Arrays.copyOfRange(b, 126, 158);
        // minisign 0.11 leaves an unencrypted key's checksum zero; older versions fill it in
        if (!Arrays.equals(checksum, new byte[32]) && !Arrays.equals(checksum, checksum(id, sk))) {
            throw new IllegalArgumentException(where + " is a damaged minisign secret key (its checksum does not "
                    + "match)");
        }
        MinisignSigner signer = new MinisignSigner(id, Arrays.copyOfRange(sk, 0, 32), Arrays.copyOfRange(sk, 32, 64));
        byte[] test = "whatami".getBytes(StandardCharsets.US_ASCII);
        if (!verifies(signer.publicKey, test, signer.raw(test))) {
            throw new IllegalArgumentException(where + " is a damaged minisign secret key (its two halves do not "
                    + "match)");
        }
        return signer;
    }

    private static byte[] checksum(byte[] id, byte[] sk) {
        Blake2b b = new Blake2b(32);
        b.update(new byte[] {'E', 'd'}, 0, 2);
        b.update(id, 0, 8);
        b.update(sk, 0, 64);
        return b.digest();
    }

    /** The public half. */
    public MinisignKey publicKey() {
        return publicKey;
    }

    /** The text of an unencrypted secret key file, as {@code minisign -G -W} writes it: keep it 0600, off instances. */
    public String secretKeyFileText() {
        byte[] b = new byte[158];
        b[0] = 'E';
        b[1] = 'd';
        b[4] = 'B';
        b[5] = '2';
        byte[] id = publicKey.idBytes();
        System.arraycopy(id, 0, b, 54, 8);
        byte[] sk = new byte[64];
        System.arraycopy(seed, 0, sk, 0, 32);
        byte[] raw = Base64.getDecoder().decode(publicKey.base64());
        System.arraycopy(raw, 10, sk, 32, 32);
        System.arraycopy(sk, 0, b, 62, 64);
        System.arraycopy(checksum(id, sk), 0, b, 126, 32);
        return "untrusted comment: minisign secret key (unencrypted) " + publicKey.id() + "\n"
                + Base64.getEncoder().encodeToString(b) + "\n";
    }

    /**
     * A signature file over {@code data}, as {@code minisign -S -t trustedComment} writes it: prehashed ({@code ED}).
     *
     * @param trustedComment signed too; one line
     */
    public String sign(byte[] data, String trustedComment) {
        if (trustedComment.contains("\n") || trustedComment.contains("\r")) {
            throw new IllegalArgumentException("a trusted comment is one line");
        }
        byte[] sig = raw(Blake2b.digest512(data));
        byte[] line = new byte[74];
        line[0] = 'E';
        line[1] = 'D';
        System.arraycopy(publicKey.idBytes(), 0, line, 2, 8);
        System.arraycopy(sig, 0, line, 10, 64);
        byte[] comment = trustedComment.getBytes(StandardCharsets.UTF_8);
        byte[] globalInput = Arrays.copyOf(sig, 64 + comment.length);
        System.arraycopy(comment, 0, globalInput, 64, comment.length);
        return "untrusted comment: signature from minisign secret key " + publicKey.id() + "\n"
                + Base64.getEncoder().encodeToString(line) + "\n"
                + "trusted comment: " + trustedComment + "\n"
                + Base64.getEncoder().encodeToString(raw(globalInput)) + "\n";
    }

    private byte[] raw(byte[] message) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(privateKey);
            s.update(message);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot sign with Ed25519: " + e.getMessage(), e);
        }
    }

    private static boolean verifies(MinisignKey key, byte[] message, byte[] sig) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(key.publicKey());
            s.update(message);
            return s.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return "minisign secret key " + publicKey.id();
    }
}
