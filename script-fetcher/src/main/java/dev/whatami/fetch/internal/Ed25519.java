package dev.whatami.fetch.internal;

import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Ed25519 signature verification (RFC 8032, section 5.1.7), and nothing else: no keys made, nothing signed, so no
 * secret is ever in it and nothing needs to run in constant time.
 *
 * <p>Why not the JDK's: a first boot verifies two signatures (the keys document, the manifest), and in a cold JVM the
 * JDK's Ed25519 costs ~40 ms before the first one is done: finding and starting the SunEC provider (its
 * {@code CurveDB} initialiser parses every named curve it knows), the key factory, the parameters, and a first
 * verification in its generic, allocating field arithmetic, interpreted. BouncyCastle's {@code rfc8032} code (1.87) is
 * fast once running, but its digest pulls in {@code CryptoServicesRegistrar}, whose initialiser alone takes ~31 ms.
 * This class does the same verification in a few milliseconds cold: field elements of ten 25.5-bit limbs (the layout
 * of the reference implementation, "ref10"), the RFC's extended-coordinate formulas, the JDK's SHA-512 (the SUN
 * provider a boot has loaded already) and {@link BigInteger} for the two scalar reductions. Signing stays with the
 * JDK ({@code MinisignSigner}); the tests check this class against the JDK on many keys, messages and forgeries, and
 * against RFC 8032's vectors. {@code bench/manifest-boot.sh} measures what it saves.
 *
 * <p>It is strict where RFC 8032 lets a verifier choose: a public key or {@code R} whose {@code y} is not reduced
 * ({@code y >= p}), or whose {@code x} is 0 with the sign bit set, is refused; so is a public key of small order (one
 * of the eight points {@code [8]A} takes to the neutral element, with which a signature says nothing of the message);
 * {@code S} must be below the group order {@code L}; and the check is the cofactorless one, {@code [S]B == R + [k]A},
 * by {@code R}'s encoding.
 */
public final class Ed25519 {
    private static final BigInteger L = BigInteger.ONE.shiftLeft(252)
            .add(new BigInteger("27742317777372353535851937790883648493"));
    private static final long[] D = fromHex("a3785913ca4deb75abd841414d0a700098e879777940c78c73fe6f2bee6c0352");
    private static final long[] D2 = fromHex("59f1b226949bd6eb56b183829a14e00030d1f3eef2808e19e7fcdf56dcd90624");
    private static final long[] SQRT_M1 = fromHex("b0a00e4a271beec478e42fad0618432fa7d7fb3d99004d2b0bdfc14f8024832b");
    private static final long[] ONE = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    /** [0]B (unused) to [15]B, cached; B, the base point: y = 4/5, x even. */
    private static final long[][][] BASE_TABLE = table(point(
            fromHex("1ad5258f602d56c9b2a7259560c72c695cdcd6fd31e2a4c0fe536ecdd3366921"),
            fromHex("5866666666666666666666666666666666666666666666666666666666666666")));

    private Ed25519() {
    }

    /**
     * Whether {@code signature} is a valid Ed25519 signature of {@code message} by {@code publicKey}.
     *
     * @param publicKey the 32-byte encoded key
     * @param signature the 64-byte signature, {@code R || S}
     * @return false for a signature that does not verify, and for a key or signature of the wrong length or that is
     *     no valid encoding
     * @throws NullPointerException when an argument is null
     */
    public static boolean verify(byte[] publicKey, byte[] message, byte[] signature) {
        Objects.requireNonNull(message, "message");
        return verify(publicKey, message, 0, message.length, signature);
    }

    /**
     * Whether {@code signature} is a valid Ed25519 signature of {@code length} bytes of {@code message} from
     * {@code offset}: as {@link #verify(byte[], byte[], byte[])}, without a copy of a large message.
     *
     * @throws IndexOutOfBoundsException when the range is not within {@code message}
     */
    public static boolean verify(byte[] publicKey, byte[] message, int offset, int length, byte[] signature) {
        Objects.checkFromIndexSize(offset, length, Objects.requireNonNull(message, "message").length);
        Check check = check(publicKey, signature);
        check.update(message, offset, length);
        return check.verify();
    }

    /**
     * A verification whose message is given piece by piece ({@link Check#update}), for one too large to hold: the
     * hash takes {@code R} and the key first, so the message need not be kept.
     *
     * @throws NullPointerException when an argument is null
     */
    public static Check check(byte[] publicKey, byte[] signature) {
        return new Check(Objects.requireNonNull(publicKey, "publicKey").clone(),
                Objects.requireNonNull(signature, "signature").clone());
    }

    /**
     * One running verification: {@link #update} with the message's bytes, then {@link #verify}, once. Not
     * thread-safe.
     */
    public static final class Check {
        private final byte[] signature;
        private final long[][] a;
        private final BigInteger s;
        private final MessageDigest sha512;

        private Check(byte[] publicKey, byte[] signature) {
            this.signature = signature;
            long[][] key = publicKey.length == 32 && signature.length == 64 ? key(publicKey) : null;
            BigInteger scalar = key == null ? null : new BigInteger(1, reversed(signature, 32, 64));
            if (scalar != null && scalar.compareTo(L) >= 0) {
                key = null; // S >= L
            }
            this.a = key;
            this.s = scalar;
            if (key == null) {
                this.sha512 = null; // verifies nothing: the message need not even be hashed
                return;
            }
            try {
                this.sha512 = MessageDigest.getInstance("SHA-512");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("the JDK has no SHA-512", e);
            }
            sha512.update(signature, 0, 32);
            sha512.update(publicKey);
        }

        /** The next {@code length} bytes of the message. */
        public void update(byte[] b, int offset, int length) {
            if (sha512 != null) {
                sha512.update(b, offset, length);
            }
        }

        /**
         * Whether the signature verifies over the bytes given; false too for a key or signature that is no valid
         * one.
         */
        public boolean verify() {
            if (sha512 == null) {
                return false;
            }
            BigInteger k = new BigInteger(1, reversed(sha512.digest(), 0, 64)).mod(L);
            // R' = [S]B + [k](-A), four bits of each at a time from the top (Straus): 252 doublings, at most 128 sums
            byte[] sBytes = reversed(s.toByteArray());
            byte[] kBytes = reversed(k.toByteArray());
            long[][][] minusA = table(new long[][] {neg(a[0]), a[1], a[2], neg(a[3])});
            long[][] r = {new long[10], ONE.clone(), ONE.clone(), new long[10]};
            for (int i = 63; i >= 0; i--) {
                if (i < 63) {
                    r = doubled(doubled(doubled(doubled(r, false), false), false), true);
                }
                int sDigit = nibble(sBytes, i);
                int kDigit = nibble(kBytes, i);
                if (sDigit != 0) {
                    r = sum(r, BASE_TABLE[sDigit]);
                }
                if (kDigit != 0) {
                    r = sum(r, minusA[kDigit]);
                }
            }
            return MessageDigest.isEqual(encode(r), Arrays.copyOf(signature, 32));
        }
    }

    /**
     * Whether {@code publicKey} is 32 bytes this class takes for a key: a point of the curve, canonically encoded,
     * not of small order.
     */
    public static boolean isPublicKey(byte[] publicKey) {
        return publicKey.length == 32 && key(publicKey) != null;
    }

    private static long[][] key(byte[] publicKey) {
        long[][] a = decode(publicKey);
        if (a == null || isNeutral(doubled(doubled(doubled(a, false), false), false))) {
            return null; // no point, or one of the eight of small order, for which the equation says little
        }
        return a;
    }

    // ---- points: extended coordinates (X : Y : Z : T), x = X/Z, y = Y/Z, xy = T/Z (RFC 8032, 5.1.4); a point to add
    // is kept "cached", as (Y + X, Y - X, 2Z, 2dT), the parts of the sum's formula that depend on it alone ----

    /** [n]p, for the tests. */
    static long[][] multiply(long[][] p, BigInteger n) {
        long[][] q = cached(p);
        long[][] r = {new long[10], ONE.clone(), ONE.clone(), new long[10]};
        for (int i = n.bitLength() - 1; i >= 0; i--) {
            r = doubled(r, true);
            if (n.testBit(i)) {
                r = sum(r, q);
            }
        }
        return r;
    }

    /** Whether p is (0, 1): X = 0, Y = Z. */
    private static boolean isNeutral(long[][] p) {
        return isZero(toBytes(p[0])) && equal(p[1], p[2]);
    }

    private static long[][] point(long[] x, long[] y) {
        return new long[][] {x, y, ONE.clone(), mul(x, y)};
    }

    private static long[][] cached(long[][] p) {
        return new long[][] {add(p[1], p[0]), sub(p[1], p[0]), add(p[2], p[2]), mul(p[3], D2)};
    }

    /** [0]p (unused) to [15]p, cached. */
    private static long[][][] table(long[][] p) {
        long[][][] t = new long[16][][];
        long[][] q = cached(p);
        long[][] m = p;
        t[1] = q;
        for (int j = 2; j < 16; j++) {
            m = j == 2 ? doubled(p, true) : sum(m, q);
            t[j] = cached(m);
        }
        return t;
    }

    private static long[][] sum(long[][] p, long[][] q) {
        long[] a = mul(sub(p[1], p[0]), q[1]);
        long[] b = mul(add(p[1], p[0]), q[0]);
        long[] c = mul(p[3], q[3]);
        long[] d = mul(p[2], q[2]);
        long[] e = sub(b, a);
        long[] f = sub(d, c);
        long[] g = add(d, c);
        long[] h = add(b, a);
        return new long[][] {mul(e, f), mul(g, h), mul(f, g), mul(e, h)};
    }

    /** 2p; T only when {@code withT} (a doubling reads no T, a sum does). */
    private static long[][] doubled(long[][] p, boolean withT) {
        long[] a = square(p[0]);
        long[] b = square(p[1]);
        long[] zz = square(p[2]);
        long[] c = add(zz, zz);
        long[] h = add(a, b);
        long[] e = sub(h, square(add(p[0], p[1])));
        long[] g = sub(a, b);
        long[] f = add(c, g);
        return new long[][] {mul(e, f), mul(g, h), mul(f, g), withT ? mul(e, h) : null};
    }

    private static int nibble(byte[] littleEndian, int i) {
        int at = i >> 1;
        return at < littleEndian.length ? (littleEndian[at] >> ((i & 1) * 4)) & 15 : 0;
    }

    /** RFC 8032, 5.1.3; null when {@code s} encodes no point, or encodes one another way than the canonical. */
    static long[][] decode(byte[] s) {
        long[] y = fromBytes(s);
        byte[] canonical = toBytes(y);
        canonical[31] |= (byte) (s[31] & 0x80);
        if (!Arrays.equals(canonical, s)) {
            return null; // y >= p
        }
        long[] yy = square(y);
        long[] u = sub(yy, ONE);
        long[] v = add(mul(D, yy), ONE);
        long[] v3 = mul(square(v), v);
        long[] uv7 = mul(mul(square(v3), v), u);
        long[] x = mul(mul(u, v3), pow22523(uv7));
        long[] vxx = mul(v, square(x));
        if (!equal(vxx, u)) {
            if (!equal(vxx, neg(u))) {
                return null; // no square root: not on the curve
            }
            x = mul(x, SQRT_M1);
        }
        int sign = (s[31] >> 7) & 1;
        byte[] xb = toBytes(x);
        if (isZero(xb) && sign == 1) {
            return null;
        }
        if ((xb[0] & 1) != sign) {
            x = neg(x);
        }
        return point(x, y);
    }

    static byte[] encode(long[][] p) {
        long[] zInverse = invert(p[2]);
        byte[] out = toBytes(mul(p[1], zInverse));
        out[31] |= (byte) ((toBytes(mul(p[0], zInverse))[0] & 1) << 7);
        return out;
    }

    // ---- the field GF(2^255 - 19): ten signed limbs, 26 and 25 bits in turn, limb i at bit ceil(25.5 i) ----

    private static int bits(int i) {
        return (i & 1) == 0 ? 26 : 25;
    }

    /**
     * f * g. Inputs are carried (each limb within its width, give or take 38), so no sum of products passes 2^62; the
     * products that reach 2^255 or beyond come back times 19, and a product of two odd limbs twice (their bit
     * positions, ceil(25.5 i), add up to one more than the sum's limb's).
     */
    static long[] mul(long[] f, long[] g) {
        long f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4];
        long f5 = f[5], f6 = f[6], f7 = f[7], f8 = f[8], f9 = f[9];
        long g0 = g[0], g1 = g[1], g2 = g[2], g3 = g[3], g4 = g[4];
        long g5 = g[5], g6 = g[6], g7 = g[7], g8 = g[8], g9 = g[9];
        long f1x2 = 2 * f1, f3x2 = 2 * f3, f5x2 = 2 * f5, f7x2 = 2 * f7, f9x2 = 2 * f9;
        long g1x19 = 19 * g1, g2x19 = 19 * g2, g3x19 = 19 * g3, g4x19 = 19 * g4, g5x19 = 19 * g5;
        long g6x19 = 19 * g6, g7x19 = 19 * g7, g8x19 = 19 * g8, g9x19 = 19 * g9;
        long h0 = f0 * g0 + f1x2 * g9x19 + f2 * g8x19 + f3x2 * g7x19 + f4 * g6x19 + f5x2 * g5x19 + f6 * g4x19
                + f7x2 * g3x19 + f8 * g2x19 + f9x2 * g1x19;
        long h1 = f0 * g1 + f1 * g0 + f2 * g9x19 + f3 * g8x19 + f4 * g7x19 + f5 * g6x19 + f6 * g5x19 + f7 * g4x19
                + f8 * g3x19 + f9 * g2x19;
        long h2 = f0 * g2 + f1x2 * g1 + f2 * g0 + f3x2 * g9x19 + f4 * g8x19 + f5x2 * g7x19 + f6 * g6x19 + f7x2 * g5x19
                + f8 * g4x19 + f9x2 * g3x19;
        long h3 = f0 * g3 + f1 * g2 + f2 * g1 + f3 * g0 + f4 * g9x19 + f5 * g8x19 + f6 * g7x19 + f7 * g6x19
                + f8 * g5x19 + f9 * g4x19;
        long h4 = f0 * g4 + f1x2 * g3 + f2 * g2 + f3x2 * g1 + f4 * g0 + f5x2 * g9x19 + f6 * g8x19 + f7x2 * g7x19
                + f8 * g6x19 + f9x2 * g5x19;
        long h5 = f0 * g5 + f1 * g4 + f2 * g3 + f3 * g2 + f4 * g1 + f5 * g0 + f6 * g9x19 + f7 * g8x19 + f8 * g7x19
                + f9 * g6x19;
        long h6 = f0 * g6 + f1x2 * g5 + f2 * g4 + f3x2 * g3 + f4 * g2 + f5x2 * g1 + f6 * g0 + f7x2 * g9x19
                + f8 * g8x19 + f9x2 * g7x19;
        long h7 = f0 * g7 + f1 * g6 + f2 * g5 + f3 * g4 + f4 * g3 + f5 * g2 + f6 * g1 + f7 * g0 + f8 * g9x19
                + f9 * g8x19;
        long h8 = f0 * g8 + f1x2 * g7 + f2 * g6 + f3x2 * g5 + f4 * g4 + f5x2 * g3 + f6 * g2 + f7x2 * g1 + f8 * g0
                + f9x2 * g9x19;
        long h9 = f0 * g9 + f1 * g8 + f2 * g7 + f3 * g6 + f4 * g5 + f5 * g4 + f6 * g3 + f7 * g2 + f8 * g1 + f9 * g0;
        return carried2(h0, h1, h2, h3, h4, h5, h6, h7, h8, h9);
    }

    /** f * f, the products of {@link #mul} each pair once. */
    static long[] square(long[] f) {
        long f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4];
        long f5 = f[5], f6 = f[6], f7 = f[7], f8 = f[8], f9 = f[9];
        long f0x2 = 2 * f0, f1x2 = 2 * f1, f1x4 = 4 * f1, f2x2 = 2 * f2, f3x2 = 2 * f3;
        long f3x4 = 4 * f3, f4x2 = 2 * f4, f5x2 = 2 * f5, f5x38 = 38 * f5, f5x4 = 4 * f5;
        long f6x19 = 19 * f6, f6x2 = 2 * f6, f7x19 = 19 * f7, f7x2 = 2 * f7, f7x38 = 38 * f7;
        long f7x4 = 4 * f7, f8x19 = 19 * f8, f8x2 = 2 * f8, f9x19 = 19 * f9, f9x38 = 38 * f9;
        long h0 = f0 * f0 + f1x4 * f9x19 + f2x2 * f8x19 + f3x4 * f7x19 + f4x2 * f6x19 + f5 * f5x38;
        long h1 = f0x2 * f1 + f2x2 * f9x19 + f3x2 * f8x19 + f4x2 * f7x19 + f5x2 * f6x19;
        long h2 = f0x2 * f2 + f1x2 * f1 + f3x4 * f9x19 + f4x2 * f8x19 + f5x4 * f7x19 + f6 * f6x19;
        long h3 = f0x2 * f3 + f1x2 * f2 + f4x2 * f9x19 + f5x2 * f8x19 + f6x2 * f7x19;
        long h4 = f0x2 * f4 + f1x4 * f3 + f2 * f2 + f5x4 * f9x19 + f6x2 * f8x19 + f7 * f7x38;
        long h5 = f0x2 * f5 + f1x2 * f4 + f2x2 * f3 + f6x2 * f9x19 + f7x2 * f8x19;
        long h6 = f0x2 * f6 + f1x4 * f5 + f2x2 * f4 + f3x2 * f3 + f7x4 * f9x19 + f8 * f8x19;
        long h7 = f0x2 * f7 + f1x2 * f6 + f2x2 * f5 + f3x2 * f4 + f8x2 * f9x19;
        long h8 = f0x2 * f8 + f1x4 * f7 + f2x2 * f6 + f3x4 * f5 + f4 * f4 + f9 * f9x38;
        long h9 = f0x2 * f9 + f1x2 * f8 + f2x2 * f7 + f3x2 * f6 + f4x2 * f5;
        return carried2(h0, h1, h2, h3, h4, h5, h6, h7, h8, h9);
    }

    /** Two carry passes over a product's ten limb sums, the second for what the first's last carry put in limb 0. */
    private static long[] carried2(long h0, long h1, long h2, long h3, long h4, long h5, long h6, long h7, long h8,
            long h9) {
        long[] h = carried(h0, h1, h2, h3, h4, h5, h6, h7, h8, h9);
        return carried(h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9]);
    }

    /** One carry pass: each limb's excess into the next, the last one's times 19 into the first (2^255 = 19). */
    private static long[] carried(long h0, long h1, long h2, long h3, long h4, long h5, long h6, long h7, long h8,
            long h9) {
        long c;
        c = h0 >> 26;
        h0 -= c << 26;
        h1 += c;
        c = h1 >> 25;
        h1 -= c << 25;
        h2 += c;
        c = h2 >> 26;
        h2 -= c << 26;
        h3 += c;
        c = h3 >> 25;
        h3 -= c << 25;
        h4 += c;
        c = h4 >> 26;
        h4 -= c << 26;
        h5 += c;
        c = h5 >> 25;
        h5 -= c << 25;
        h6 += c;
        c = h6 >> 26;
        h6 -= c << 26;
        h7 += c;
        c = h7 >> 25;
        h7 -= c << 25;
        h8 += c;
        c = h8 >> 26;
        h8 -= c << 26;
        h9 += c;
        c = h9 >> 25;
        h9 -= c << 25;
        h0 += 19 * c;
        return new long[] {h0, h1, h2, h3, h4, h5, h6, h7, h8, h9};
    }

    static long[] add(long[] f, long[] g) {
        return carried(f[0] + g[0], f[1] + g[1], f[2] + g[2], f[3] + g[3], f[4] + g[4], f[5] + g[5],
                f[6] + g[6], f[7] + g[7], f[8] + g[8], f[9] + g[9]);
    }

    static long[] sub(long[] f, long[] g) {
        return carried(f[0] - g[0], f[1] - g[1], f[2] - g[2], f[3] - g[3], f[4] - g[4], f[5] - g[5],
                f[6] - g[6], f[7] - g[7], f[8] - g[8], f[9] - g[9]);
    }

    static long[] neg(long[] f) {
        return sub(new long[10], f);
    }

    /** f^(2^k). */
    private static long[] squaredTimes(long[] f, int k) {
        long[] h = f;
        for (int i = 0; i < k; i++) {
            h = square(h);
        }
        return h;
    }

    /** f^(2^250 - 1), the common part of {@link #invert} and {@link #pow22523}. */
    private static long[] pow2250m1(long[] f) {
        long[] t2 = mul(square(f), f); // 2^2 - 1
        long[] t4 = mul(squaredTimes(t2, 2), t2);
        long[] t5 = mul(square(t4), f);
        long[] t10 = mul(squaredTimes(t5, 5), t5);
        long[] t20 = mul(squaredTimes(t10, 10), t10);
        long[] t40 = mul(squaredTimes(t20, 20), t20);
        long[] t50 = mul(squaredTimes(t40, 10), t10);
        long[] t100 = mul(squaredTimes(t50, 50), t50);
        long[] t200 = mul(squaredTimes(t100, 100), t100);
        return mul(squaredTimes(t200, 50), t50);
    }

    /** f^(p - 2) = f^(2^255 - 21) = 1/f (0 for 0). */
    static long[] invert(long[] f) {
        long[] f2 = square(f);
        long[] f11 = mul(mul(squaredTimes(f2, 2), f), f2);
        return mul(squaredTimes(pow2250m1(f), 5), f11);
    }

    /** f^((p - 5) / 8) = f^(2^252 - 3), for the square root in {@link #decode}. */
    static long[] pow22523(long[] f) {
        return mul(squaredTimes(pow2250m1(f), 2), f);
    }

    private static boolean equal(long[] f, long[] g) {
        return Arrays.equals(toBytes(f), toBytes(g));
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    /** The 255 low bits of 32 little-endian bytes (the top bit, a sign in point encodings, is left out). */
    static long[] fromBytes(byte[] s) {
        long[] h = new long[10];
        long acc = 0;
        int have = 0;
        int next = 0;
        for (int i = 0; i < 10; i++) {
            int n = bits(i);
            while (have < n) {
                acc |= (s[next++] & 0xffL) << have;
                have += 8;
            }
            h[i] = acc & ((1L << n) - 1);
            acc >>>= n;
            have -= n;
        }
        return h;
    }

    /** The canonical encoding: the value reduced below p, 32 little-endian bytes, the top bit 0. */
    static byte[] toBytes(long[] f) {
        long[] h = f;
        while (!inRange(h)) {
            h = carried(h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9]);
        }
        h = h.clone();
        // now 0 <= h < 2^255; h >= p exactly when h + 19 reaches 2^255
        long q = (h[0] + 19) >> 26;
        for (int i = 1; i < 10; i++) {
            q = (h[i] + q) >> bits(i);
        }
        h[0] += 19 * q;
        for (int i = 0; i < 9; i++) {
            long c = h[i] >> bits(i);
            h[i] -= c << bits(i);
            h[i + 1] += c;
        }
        h[9] &= (1L << 25) - 1; // drops the 2^255 that q * p added beyond 19 q
        byte[] out = new byte[32];
        long acc = 0;
        int have = 0;
        int next = 0;
        for (int i = 0; i < 10; i++) {
            acc |= h[i] << have;
            have += bits(i);
            while (have >= 8) {
                out[next++] = (byte) acc;
                acc >>>= 8;
                have -= 8;
            }
        }
        out[next] = (byte) acc;
        return out;
    }

    private static boolean inRange(long[] h) {
        for (int i = 0; i < 10; i++) {
            if (h[i] < 0 || h[i] >= 1L << bits(i)) {
                return false;
            }
        }
        return true;
    }

    private static long[] fromHex(String littleEndian) {
        return fromBytes(HexFormat.of().parseHex(littleEndian));
    }

    private static byte[] reversed(byte[] b) {
        return reversed(b, 0, b.length);
    }

    private static byte[] reversed(byte[] b, int from, int to) {
        byte[] out = new byte[to - from];
        for (int i = 0; i < out.length; i++) {
            out[i] = b[to - 1 - i];
        }
        return out;
    }
}
