package dev.whatami.fetch;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;

/**
 * An Ed25519 public key in minisign's (and signify's) format: {@code base64("Ed" || key id (8 bytes) || key (32
 * bytes))}, usually after a line {@code untrusted comment: ...}. What {@code minisign -G} and
 * {@code signify-openbsd -G} write to their {@code .pub} files. Immutable, thread-safe.
 */
public final class MinisignKey {
    private static final byte[] X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

    private final byte[] id;
    private final byte[] raw;
    /** Made on first use: the JDK's key factory loads its providers, milliseconds a boot that verifies nothing saves. */
    private volatile PublicKey key;

    private MinisignKey(byte[] id, byte[] raw) {
        this.id = id.clone();
        this.raw = raw.clone();
    }

    /**
     * A key from its parts.
     *
     * @param id  the 8-byte key id, as it is stored (minisign prints it reversed, see {@link #id()})
     * @param raw the 32-byte Ed25519 public key
     */
    public static MinisignKey of(byte[] id, byte[] raw) {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(raw, "raw");
        if (id.length != 8 || raw.length != 32) {
            throw new IllegalArgumentException("a minisign key is an 8-byte id and a 32-byte Ed25519 key, got "
                    + id.length + " and " + raw.length + " bytes");
        }
        return new MinisignKey(id, raw);
    }

    /**
     * A JDK Ed25519 public key with the given id.
     *
     * @throws IllegalArgumentException when it is not an Ed25519 key
     */
    public static MinisignKey of(byte[] id, PublicKey key) {
        byte[] der = key.getEncoded();
        if (!key.getAlgorithm().equals("EdDSA") && !key.getAlgorithm().equals("Ed25519") || der.length != 44) {
            throw new IllegalArgumentException("not an Ed25519 public key: " + key.getAlgorithm());
        }
        return of(id, Arrays.copyOfRange(der, 12, 44));
    }

    /**
     * Parses a public key file's text, or just its base64 line.
     *
     * @param where names the text in messages, e.g. the file
     * @throws IllegalArgumentException when it is not a minisign/signify Ed25519 public key, saying how to make one
     */
    public static MinisignKey parse(String text, String where) {
        Objects.requireNonNull(text, "text");
        String line = null;
        for (String l : text.split("\n")) {
            String s = l.strip();
            if (s.isEmpty() || s.startsWith("untrusted comment:")) {
                continue;
            }
            if (line != null) {
                throw bad(where, "it has more than one key line");
            }
            line = s;
        }
        if (line == null) {
            throw bad(where, "it holds no key line");
        }
        byte[] b;
        try {
            b = Base64.getDecoder().decode(line);
        } catch (IllegalArgumentException e) {
            throw bad(where, "its key line is not base64");
        }
        if (b.length != 42 || b[0] != 'E' || b[1] != 'd') {
            throw bad(where, "its key line is not \"Ed\", an 8-byte key id and a 32-byte key (" + b.length
                    + " bytes)");
        }
        return new MinisignKey(Arrays.copyOfRange(b, 2, 10), Arrays.copyOfRange(b, 10, 42));
    }

    private static IllegalArgumentException bad(String where, String why) {
        return new IllegalArgumentException(where + " is not a minisign public key: " + why + "; make one with "
                + "minisign -G (or signify-openbsd -G, or whatami-server manifest pubkey --key KEY)");
    }

    /** The key id as minisign prints it: 16 upper-case hex digits (the stored bytes, last first). */
    public String id() {
        return idHex(id);
    }

    /** The key id of stored bytes, as minisign prints it. */
    public static String idHex(byte[] storedId) {
        byte[] reversed = new byte[storedId.length];
        for (int i = 0; i < storedId.length; i++) {
            reversed[i] = storedId[storedId.length - 1 - i];
        }
        return HexFormat.of().withUpperCase().formatHex(reversed);
    }

    /** The 32-byte Ed25519 public key, as RFC 8032 encodes it. */
    public byte[] keyBytes() {
        return raw.clone();
    }

    /** The 8 key id bytes as stored in keys and signatures. */
    public byte[] idBytes() {
        return id.clone();
    }

    /**
     * The JDK key, for {@code Signature.getInstance("Ed25519")}.
     *
     * @throws IllegalArgumentException when the 32 bytes are no point of the curve
     */
    public PublicKey publicKey() {
        PublicKey k = key;
        if (k == null) {
            byte[] der = Arrays.copyOf(X509_PREFIX, X509_PREFIX.length + 32);
            System.arraycopy(raw, 0, der, X509_PREFIX.length, 32);
            try {
                k = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                throw new IllegalArgumentException("minisign key " + id() + " is not an Ed25519 key: "
                        + e.getMessage(), e);
            }
            key = k;
        }
        return k;
    }

    /** The key line: {@code base64("Ed" || id || key)}. */
    public String base64() {
        byte[] b = new byte[42];
        b[0] = 'E';
        b[1] = 'd';
        System.arraycopy(id, 0, b, 2, 8);
        System.arraycopy(raw, 0, b, 10, 32);
        return Base64.getEncoder().encodeToString(b);
    }

    /** The text of a {@code .pub} file as minisign writes it. */
    public String fileText() {
        return "untrusted comment: minisign public key " + id() + "\n" + base64() + "\n";
    }

    /** Whether a signature's stored key id is this key's. */
    public boolean hasId(byte[] storedId) {
        return Arrays.equals(id, storedId);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MinisignKey k && Arrays.equals(id, k.id) && Arrays.equals(raw, k.raw);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(raw);
    }

    /** {@code minisign key <id>}: never more, so it can go in any message. */
    @Override
    public String toString() {
        return "minisign key " + id();
    }

}
