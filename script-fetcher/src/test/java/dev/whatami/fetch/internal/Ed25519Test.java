package dev.whatami.fetch.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.Signature;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link Ed25519} against RFC 8032's vectors, against the JDK's Ed25519 on many keys, messages and forgeries, and its
 * field arithmetic against {@link BigInteger}; and the refusals where it is stricter than RFC 8032 requires.
 */
class Ed25519Test {
    private static final HexFormat HEX = HexFormat.of();
    private static final BigInteger P = BigInteger.ONE.shiftLeft(255).subtract(BigInteger.valueOf(19));
    private static final BigInteger L = BigInteger.ONE.shiftLeft(252)
            .add(new BigInteger("27742317777372353535851937790883648493"));

    private static byte[] le(BigInteger v) {
        byte[] be = v.toByteArray();
        byte[] out = new byte[32];
        for (int i = 0; i < Math.min(32, be.length); i++) {
            out[i] = be[be.length - 1 - i];
        }
        return out;
    }

    private static BigInteger value(byte[] le) {
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) {
            be[i] = le[le.length - 1 - i];
        }
        return new BigInteger(1, be);
    }

    private static BigInteger random255(Random r) {
        return switch (r.nextInt(8)) {
            case 0 -> P.subtract(BigInteger.valueOf(r.nextInt(40) - 20)).mod(BigInteger.ONE.shiftLeft(255));
            case 1 -> BigInteger.valueOf(r.nextInt(40));
            case 2 -> BigInteger.ONE.shiftLeft(255).subtract(BigInteger.valueOf(1 + r.nextInt(40)));
            default -> new BigInteger(255, r);
        };
    }

    // ---- RFC 8032, 7.1 ----

    private static boolean vector(String publicKey, String message, String signature) {
        return Ed25519.verify(HEX.parseHex(publicKey), HEX.parseHex(message), HEX.parseHex(signature));
    }

    @Test
    void rfc8032Vectors_verify() {
        assertThat(vector("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                        + "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")).isTrue();
        assertThat(vector("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
                "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                        + "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")).isTrue();
        assertThat(vector("fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
                "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
                        + "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a")).isTrue();
        assertThat(vector("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                        + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
                "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
                        + "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704")).isTrue();
    }

    @Test
    void rfc8032Vector_withAnyByteChanged_isRefused() {
        byte[] pk = HEX.parseHex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
        byte[] msg = HEX.parseHex("72");
        byte[] sig = HEX.parseHex("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                + "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
        for (int i = 0; i < 64; i++) {
            byte[] s = sig.clone();
            s[i] ^= 1;
            assertThat(Ed25519.verify(pk, msg, s)).as("signature byte %d", i).isFalse();
        }
        for (int i = 0; i < 32; i++) {
            byte[] k = pk.clone();
            k[i] ^= 0x10;
            assertThat(Ed25519.verify(k, msg, sig)).as("key byte %d", i).isFalse();
        }
        assertThat(Ed25519.verify(pk, new byte[] {0x73}, sig)).isFalse();
        assertThat(Ed25519.verify(pk, new byte[0], sig)).isFalse();
        assertThat(Ed25519.verify(pk, new byte[] {0x72, 0}, sig)).isFalse();
    }

    // ---- against the JDK ----

    @Test
    void agreesWithTheJdk_onItsSignatures_andOnTheirForgeries() throws Exception {
        Random random = new Random(8032);
        KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519");
        int accepted = 0;
        int refused = 0;
        for (int n = 0; n < 150; n++) {
            KeyPair pair = generator.generateKeyPair();
            byte[] der = pair.getPublic().getEncoded();
            byte[] pk = Arrays.copyOfRange(der, der.length - 32, der.length);
            byte[] message = new byte[random.nextInt(n % 10 == 0 ? 3000 : 200)];
            random.nextBytes(message);
            Signature signer = Signature.getInstance("Ed25519");
            signer.initSign(pair.getPrivate());
            signer.update(message);
            byte[] sig = signer.sign();
            assertThat(Ed25519.verify(pk, message, sig)).as("pair %d", n).isTrue();
            accepted++;
            // one forgery of each kind per pair: a bit of R, of S, of the message, of the key
            byte[] badR = sig.clone();
            badR[random.nextInt(32)] ^= (byte) (1 << random.nextInt(8));
            byte[] badS = sig.clone();
            badS[32 + random.nextInt(32)] ^= (byte) (1 << random.nextInt(8));
            byte[] badMessage = message.length == 0 ? new byte[] {1} : message.clone();
            if (message.length > 0) {
                badMessage[random.nextInt(message.length)] ^= (byte) (1 << random.nextInt(8));
            }
            byte[] badKey = pk.clone();
            badKey[random.nextInt(32)] ^= (byte) (1 << random.nextInt(8));
            for (byte[][] forged : new byte[][][] {{pk, message, badR}, {pk, message, badS}, {pk, badMessage, sig},
                    {badKey, message, sig}}) {
                assertThat(Ed25519.verify(forged[0], forged[1], forged[2])).isFalse();
                assertThat(jdk(forged[0], forged[1], forged[2])).isFalse();
                refused++;
            }
        }
        assertThat(accepted).isEqualTo(150);
        assertThat(refused).isEqualTo(600);
    }

    private static boolean jdk(byte[] pk, byte[] message, byte[] sig) {
        try {
            byte[] der = HEX.parseHex("302a300506032b6570032100" + HEX.formatHex(pk));
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(java.security.KeyFactory.getInstance("Ed25519")
                    .generatePublic(new java.security.spec.X509EncodedKeySpec(der)));
            s.update(message);
            return s.verify(sig);
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void aMessageGivenPieceByPiece_verifiesAsWhole_andAnInvalidKeyOrSignatureVerifiesNothing() throws Exception {
        KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        byte[] der = pair.getPublic().getEncoded();
        byte[] pk = Arrays.copyOfRange(der, 12, 44);
        byte[] message = new byte[100_000];
        new Random(7).nextBytes(message);
        Signature signer = Signature.getInstance("Ed25519");
        signer.initSign(pair.getPrivate());
        signer.update(message);
        byte[] sig = signer.sign();
        Ed25519.Check check = Ed25519.check(pk, sig);
        for (int at = 0; at < message.length; at += 777) {
            check.update(message, at, Math.min(777, message.length - at));
        }
        assertThat(check.verify()).isTrue();
        Ed25519.Check short1 = Ed25519.check(pk, sig);
        short1.update(message, 0, message.length - 1);
        assertThat(short1.verify()).isFalse();
        Ed25519.Check badKey = Ed25519.check(le(BigInteger.ONE), sig); // small order
        badKey.update(message, 0, message.length);
        assertThat(badKey.verify()).isFalse();
        Ed25519.Check shortSig = Ed25519.check(pk, Arrays.copyOf(sig, 63));
        shortSig.update(message, 0, message.length);
        assertThat(shortSig.verify()).isFalse();
    }

    // ---- where it is strict ----

    @Test
    void sAtOrAboveTheGroupOrder_isRefused_thoughTheEquationStillHolds() throws Exception {
        KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        byte[] der = pair.getPublic().getEncoded();
        byte[] pk = Arrays.copyOfRange(der, 12, 44);
        byte[] message = "a manifest".getBytes(StandardCharsets.UTF_8);
        Signature signer = Signature.getInstance("Ed25519");
        signer.initSign(pair.getPrivate());
        signer.update(message);
        byte[] sig = signer.sign();
        BigInteger s = value(Arrays.copyOfRange(sig, 32, 64));
        BigInteger malleated = s.add(L); // [S + L]B = [S]B: a verifier without the check would accept it
        assertThat(malleated.bitLength()).isLessThanOrEqualTo(256);
        byte[] other = sig.clone();
        System.arraycopy(le(malleated), 0, other, 32, 32);
        assertThat(Ed25519.verify(pk, message, sig)).isTrue();
        assertThat(Ed25519.verify(pk, message, other)).isFalse();
    }

    @Test
    void aPointEncodedWithYAboveP_isNoPoint() {
        // y = 1 (the neutral element, x = 0) written canonically, and as p + 1
        byte[] canonical = le(BigInteger.ONE);
        byte[] unreduced = le(P.add(BigInteger.ONE));
        assertThat(Ed25519.decode(canonical)).isNotNull();
        assertThat(Ed25519.decode(unreduced)).isNull();
        // x = 0 with the sign bit set
        byte[] negativeZero = canonical.clone();
        negativeZero[31] |= (byte) 0x80;
        assertThat(Ed25519.decode(negativeZero)).isNull();
    }

    @Test
    void aYWithNoPointOnTheCurve_isNoPoint_andSuchAKeyVerifiesNothing() {
        // y = 2: (y^2 - 1) / (d y^2 + 1) has no square root mod p
        assertThat(Ed25519.decode(le(BigInteger.TWO))).isNull();
        assertThat(Ed25519.verify(le(BigInteger.TWO), new byte[0], new byte[64])).isFalse();
    }

    @Test
    void aKeyOfSmallOrder_isRefused_thoughItWouldVerifyAnyMessage() {
        // A = the neutral element: [S]B = R + [k]A holds for R = [S]B, whatever the message
        byte[] identity = le(BigInteger.ONE);
        byte[] sig = new byte[64];
        sig[32] = 1; // S = 1, R = B
        System.arraycopy(HEX.parseHex("5866666666666666666666666666666666666666666666666666666666666666"), 0, sig, 0,
                32);
        assertThat(Ed25519.verify(identity, "anything".getBytes(StandardCharsets.UTF_8), sig)).isFalse();
        // (0, -1), of order 2
        assertThat(Ed25519.verify(le(P.subtract(BigInteger.ONE)), new byte[0], sig)).isFalse();
    }

    @Test
    void wrongLengths_verifyNothing() {
        byte[] pk = HEX.parseHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        byte[] sig = HEX.parseHex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                + "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
        assertThat(Ed25519.verify(pk, new byte[0], sig)).isTrue();
        assertThat(Ed25519.verify(Arrays.copyOf(pk, 31), new byte[0], sig)).isFalse();
        assertThat(Ed25519.verify(Arrays.copyOf(pk, 33), new byte[0], sig)).isFalse();
        assertThat(Ed25519.verify(pk, new byte[0], Arrays.copyOf(sig, 63))).isFalse();
        assertThat(Ed25519.verify(pk, new byte[0], Arrays.copyOf(sig, 65))).isFalse();
        assertThatThrownBy(() -> Ed25519.verify(pk, null, sig)).isInstanceOf(NullPointerException.class)
                .hasMessage("message");
        // a range of a larger array: the same message, no copy
        byte[] around = {9, 9, 9};
        assertThat(Ed25519.verify(pk, around, 1, 0, sig)).isTrue();
        assertThat(Ed25519.verify(pk, around, 1, 1, sig)).isFalse();
        assertThatThrownBy(() -> Ed25519.verify(pk, around, 2, 2, sig)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    // ---- the field, against BigInteger ----

    @Test
    void fieldArithmetic_matchesBigInteger_includingValuesAtAndAboveP() {
        Random random = new Random(25519);
        for (int n = 0; n < 2000; n++) {
            BigInteger a = random255(random);
            BigInteger b = random255(random);
            long[] fa = Ed25519.fromBytes(le(a));
            long[] fb = Ed25519.fromBytes(le(b));
            assertThat(value(Ed25519.toBytes(fa))).isEqualTo(a.mod(P));
            assertThat(value(Ed25519.toBytes(Ed25519.mul(fa, fb)))).isEqualTo(a.multiply(b).mod(P));
            assertThat(value(Ed25519.toBytes(Ed25519.square(fa)))).isEqualTo(a.multiply(a).mod(P));
            assertThat(value(Ed25519.toBytes(Ed25519.add(fa, fb)))).isEqualTo(a.add(b).mod(P));
            assertThat(value(Ed25519.toBytes(Ed25519.sub(fa, fb)))).isEqualTo(a.subtract(b).mod(P));
            assertThat(value(Ed25519.toBytes(Ed25519.neg(fa)))).isEqualTo(a.negate().mod(P));
        }
    }

    @Test
    void longChainsOfOperations_stayExact() {
        Random random = new Random(19);
        for (int n = 0; n < 20; n++) {
            BigInteger a = random255(random);
            BigInteger b = random255(random);
            long[] fx = Ed25519.fromBytes(le(a));
            long[] fy = Ed25519.fromBytes(le(b));
            BigInteger x = a.mod(P);
            BigInteger y = b.mod(P);
            for (int i = 0; i < 500; i++) { // mixes of sums, differences and products, fed back
                long[] s = Ed25519.sub(Ed25519.add(fx, fy), Ed25519.neg(fx));
                fy = Ed25519.mul(s, Ed25519.sub(fy, fx));
                y = x.add(y).add(x).multiply(y.subtract(x)).mod(P);
                fx = i % 2 == 0 ? Ed25519.mul(fx, fx) : Ed25519.square(fx);
                x = x.multiply(x).mod(P);
            }
            assertThat(value(Ed25519.toBytes(fx))).isEqualTo(x);
            assertThat(value(Ed25519.toBytes(fy))).isEqualTo(y);
        }
    }

    @Test
    void inverseAndSquareRootPower_matchBigInteger() {
        Random random = new Random(5);
        for (int n = 0; n < 50; n++) {
            BigInteger a = random255(random).mod(P);
            long[] fa = Ed25519.fromBytes(le(a));
            assertThat(value(Ed25519.toBytes(Ed25519.invert(fa)))).isEqualTo(a.modPow(P.subtract(BigInteger.TWO), P));
            assertThat(value(Ed25519.toBytes(Ed25519.pow22523(fa))))
                    .isEqualTo(a.modPow(BigInteger.ONE.shiftLeft(252).subtract(BigInteger.valueOf(3)), P));
        }
    }

    @Test
    void theBasePoint_isFourFifths_andEncodesAsRfc8032WritesIt() throws Exception {
        byte[] b = HEX.parseHex("5866666666666666666666666666666666666666666666666666666666666666");
        assertThat(value(b)).isEqualTo(BigInteger.valueOf(4).multiply(BigInteger.valueOf(5).modInverse(P)).mod(P));
        assertThat(Ed25519.encode(Ed25519.decode(b))).isEqualTo(b);
        // and RFC 8032's first key is [s]B for its secret scalar s
        byte[] h = MessageDigest.getInstance("SHA-512")
                .digest(HEX.parseHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
        h[0] &= (byte) 248;
        h[31] &= 127;
        h[31] |= 64;
        assertThat(Ed25519.encode(Ed25519.multiply(Ed25519.decode(b), value(Arrays.copyOf(h, 32)))))
                .isEqualTo(HEX.parseHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
    }
}
