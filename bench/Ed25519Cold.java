import dev.whatami.fetch.internal.Ed25519;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.HexFormat;

/**
 * One cold JVM verifying RFC 8032's first vector twice, by the JDK's Ed25519 ({@code jdk}: key factory, then
 * Signature) or by whatami's ({@code whatami}), printing "first_ms second_ms". Run by bench/ed25519-cold.sh.
 */
public final class Ed25519Cold {
    public static void main(String[] args) throws Exception {
        HexFormat hex = HexFormat.of();
        byte[] pk = hex.parseHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        byte[] sig = hex.parseHex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc6"
                + "1e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
        MessageDigest.getInstance("SHA-256").digest(sig); // a boot has the SUN provider by the time it verifies
        long[] t = new long[3];
        for (int i = 0; i < 2; i++) {
            t[i] = System.nanoTime();
            boolean ok;
            if (args[0].equals("jdk")) {
                Signature s = Signature.getInstance("Ed25519");
                s.initVerify(KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(
                        hex.parseHex("302a300506032b6570032100" + hex.formatHex(pk)))));
                s.update(new byte[0]); // without an update the JDK's (17, 25) refuses even a valid signature
                ok = s.verify(sig);
            } else {
                ok = Ed25519.verify(pk, new byte[0], sig);
            }
            if (!ok) {
                throw new AssertionError("RFC 8032's first vector did not verify");
            }
        }
        t[2] = System.nanoTime();
        System.out.printf("%.3f %.3f%n", (t[1] - t[0]) / 1e6, (t[2] - t[1]) / 1e6);
    }
}
