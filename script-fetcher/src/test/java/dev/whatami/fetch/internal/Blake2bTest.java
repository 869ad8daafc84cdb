package dev.whatami.fetch.internal;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** BLAKE2b against RFC 7693's test vector and the values b2sum / Python's hashlib.blake2b give. */
class Blake2bTest {
    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    @Test
    void rfc7693AppendixA_abc() {
        assertThat(hex(Blake2b.digest512("abc".getBytes(US_ASCII)))).isEqualTo("ba80a53f981c4d0d6a2797b69f12f6e9"
                + "4c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
    }

    @Test
    void emptyInput() {
        assertThat(hex(Blake2b.digest512(new byte[0]))).isEqualTo("786a02f742015903c6c6fd852552d272912f4740e1584761"
                + "8a86e217f71f5419d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce");
    }

    /** Exactly one block, one block and a byte, and many blocks fed in odd pieces: the final-block rule. */
    @Test
    void blockBoundaries_matchHashlib() {
        assertThat(hex(Blake2b.digest512(bytes(128)))).isEqualTo(B128);
        assertThat(hex(Blake2b.digest512(bytes(129)))).isEqualTo(B129);
        Blake2b pieces = new Blake2b(64);
        byte[] all = bytes(1000);
        for (int off = 0; off < all.length; off += 37) {
            pieces.update(all, off, Math.min(37, all.length - off));
        }
        assertThat(hex(pieces.digest())).isEqualTo(B1000);
    }

    @Test
    void shorterDigest_isItsOwnFunction_notATruncation() {
        Blake2b b = new Blake2b(32);
        b.update("abc".getBytes(US_ASCII), 0, 3);
        assertThat(hex(b.digest())).isEqualTo("bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    }

    /** 0, 1, 2, ... 255, 0, 1, ...: the bytes the expected values below were computed over. */
    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) i;
        }
        return b;
    }

    // python3 -c "import hashlib;print(hashlib.blake2b(bytes(i % 256 for i in range(N))).hexdigest())"
    private static final String B128 = "2319e3789c47e2daa5fe807f61bec2a1a6537fa03f19ff32e87eecbfd64b7e0e8ccff439ac333b040f19b0c4ddd11a61e24ac1fe0f10a039806c5dcc0da3d115";
    private static final String B129 = "f59711d44a031d5f97a9413c065d1e614c417ede998590325f49bad2fd444d3e4418be19aec4e11449ac1a57207898bc57d76a1bcf3566292c20c683a5c4648f";
    private static final String B1000 = "9fe687126e6566313081b43167cbfa0b4f721b45a5afd4076af327765d63a616478ffbd1cd5fbe4033e8638b8bcf8de6b3978b54a30f1d9d8d68fbe66c2b74cf";
}
