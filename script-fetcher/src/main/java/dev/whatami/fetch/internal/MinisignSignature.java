package dev.whatami.fetch.internal;

import dev.whatami.fetch.MinisignKey;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;

/**
 * A minisign or signify signature file, parsed. minisign's: {@code untrusted comment: ...}, {@code base64(alg || key
 * id || signature)}, {@code trusted comment: ...}, {@code base64(global signature)}, where alg {@code Ed} signs the
 * bytes themselves ({@code minisign -l}, signify) and {@code ED} signs their BLAKE2b-512 (minisign's default), and the
 * global signature covers the signature and the trusted comment. signify's: the first two lines only, {@code Ed}.
 *
 * @param prehashed     {@code ED}: the signature is over BLAKE2b-512 of the bytes
 * @param keyId         the signing key's id, as stored
 * @param signature     the 64-byte Ed25519 signature
 * @param trustedComment the trusted comment, or empty for a signify file
 * @param global        the 64-byte signature over {@code signature || trustedComment}, or empty for a signify file
 */
public record MinisignSignature(boolean prehashed, byte[] keyId, byte[] signature, Optional<String> trustedComment,
                                Optional<byte[]> global) {
    /** Larger than any signature file with a sane trusted comment. */
    public static final int MAX_BYTES = 4096;

    /** The file is not a signature, or does not verify: what is wrong, in words a message can carry. */
    public static final class Invalid extends Exception {
        private static final long serialVersionUID = 1L;

        public Invalid(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Parses a signature file.
     *
     * @throws Invalid when it is not one, saying why
     */
    public static MinisignSignature parse(byte[] file) throws Invalid {
        if (file.length > MAX_BYTES) {
            throw new Invalid("it is larger than " + MAX_BYTES + " bytes");
        }
        String[] lines = lines(new String(file, StandardCharsets.UTF_8));
        if (lines.length < 2 || !lines[0].startsWith("untrusted comment:")) {
            throw new Invalid("it does not start with an \"untrusted comment:\" line and a signature line");
        }
        byte[] sig = base64(lines[1], "its signature line");
        if (sig.length != 74 || sig[0] != 'E' || sig[1] != 'd' && sig[1] != 'D') {
            throw new Invalid("its signature line is not \"Ed\" or \"ED\", a key id and a 64-byte signature");
        }
        boolean prehashed = sig[1] == 'D';
        byte[] keyId = Arrays.copyOfRange(sig, 2, 10);
        byte[] signature = Arrays.copyOfRange(sig, 10, 74);
        int rest = lines.length;
        while (rest > 2 && lines[rest - 1].isEmpty()) {
            rest--;
        }
        if (rest == 2) {
            if (prehashed) {
                throw new Invalid("a prehashed (ED) signature without its trusted comment");
            }
            return new MinisignSignature(false, keyId, signature, Optional.empty(), Optional.empty());
        }
        if (rest != 4 || !lines[2].startsWith("trusted comment: ")) {
            throw new Invalid("its third line is not \"trusted comment: ...\" followed by the global signature");
        }
        byte[] global = base64(lines[3], "its global signature line");
        if (global.length != 64) {
            throw new Invalid("its global signature is not 64 bytes");
        }
        return new MinisignSignature(prehashed, keyId, signature,
                Optional.of(lines[2].substring("trusted comment: ".length())), Optional.of(global));
    }

    /** The lines, without their {@code \n} or {@code \r\n}; no regex, which costs a boot milliseconds to load. */
    private static String[] lines(String text) {
        java.util.List<String> out = new java.util.ArrayList<>(4);
        int start = 0;
        while (start <= text.length()) {
            int nl = text.indexOf('\n', start);
            int end = nl < 0 ? text.length() : nl;
            out.add(text.substring(start, end > start && text.charAt(end - 1) == '\r' ? end - 1 : end));
            if (nl < 0) {
                break;
            }
            start = nl + 1;
        }
        if (out.size() > 1 && out.get(out.size() - 1).isEmpty()) {
            out.remove(out.size() - 1); // what split() would drop: the empty piece after the last newline
        }
        return out.toArray(new String[0]);
    }

    private static byte[] base64(String line, String what) throws Invalid {
        try {
            return Base64.getDecoder().decode(line.strip());
        } catch (IllegalArgumentException e) {
            throw new Invalid(what + " is not base64");
        }
    }

    /** The signing key's id as minisign prints it. */
    public String keyIdHex() {
        return MinisignKey.idHex(keyId);
    }

    /**
     * Verifies this signature, and the trusted comment's, over {@code data} with {@code key}, as {@code minisign -V}
     * does.
     *
     * @throws Invalid when the key is another's, or a signature does not verify
     */
    public void verify(MinisignKey key, byte[] data) throws Invalid {
        verify(key, data, true);
    }

    /**
     * Verifies this signature over {@code data} with {@code key}; the trusted comment's own signature only when
     * {@code comment}. A boot reads nothing from the trusted comment, so it skips that second Ed25519 verification
     * (a few milliseconds in a cold JVM).
     *
     * @throws Invalid when the key is another's, or a signature does not verify
     */
    public void verify(MinisignKey key, byte[] data, boolean comment) throws Invalid {
        if (!key.hasId(keyId)) {
            throw new Invalid("it is signed by key " + keyIdHex() + ", not by " + key.id());
        }
        byte[] message = prehashed ? Blake2b.digest512(data) : data;
        if (!ed25519(key, message, signature)) {
            throw new Invalid("its signature does not verify with key " + key.id() + ": the file changed after it "
                    + "was signed");
        }
        if (comment && global.isPresent()) {
            byte[] text = trustedComment.orElseThrow().getBytes(StandardCharsets.UTF_8);
            byte[] signed = Arrays.copyOf(signature, 64 + text.length);
            System.arraycopy(text, 0, signed, 64, text.length);
            if (!ed25519(key, signed, global.get())) {
                throw new Invalid("its trusted comment's signature does not verify with key " + key.id()
                        + ": the trusted comment was changed");
            }
        }
    }

    private static boolean ed25519(MinisignKey key, byte[] message, byte[] sig) {
        return Ed25519.verify(key.keyBytes(), message, sig); // not the JDK's: see Ed25519 for why
    }
}
