package dev.whatami.userdata;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.arbitraries.ListArbitrary;
import net.jqwik.api.statistics.Statistics;

/**
 * Nested and oversized MIME, hostile URLs and random damage: {@code parse} meets {@link ParseOutcome}'s contract
 * (a usable plan, or located problems; nothing else).
 */
class HostileInputPropertyTest {

    @Property(tries = 3000)
    void hostileLines_meetTheContract(@ForAll("lineData") String text) {
        boolean accepted = ParseOutcome.check(text.getBytes(UTF_8));
        Statistics.label("plan").collect(accepted ? "accepted" : "refused");
        Statistics.label("plan").coverage(c -> c.check("accepted").percentage(p -> p > 15));
    }

    @Property(tries = 400)
    void hostileMime_meetsTheContract(@ForAll("mime") byte[] data) {
        ParseOutcome.check(data);
    }

    @Provide
    Arbitrary<String> lineData() {
        return line().list().ofMinSize(1).ofMaxSize(2).map(l -> String.join("\n", l));
    }

    /** Hostile words among good ones, so that some plans get through and their URLs are checked. */
    private static Arbitrary<String> line() {
        Arbitrary<String> head = Arbitraries.frequencyOf(Tuple.of(3, url()), Tuple.of(1, Combinators.combine(name(),
                server()).as((n, s) -> n + " " + s)));
        Arbitrary<String> good = Arbitraries.of("timeout=90s", "frequency=per-boot", "retries=3", "as=perl",
                "env.A=b", "-- x=y", "# comment", "x", "sig=" + "A".repeat(86) + "==", "mirror=my-roles-eu");
        Arbitrary<String> bad = Arbitraries.of("timeout=5x", "frequency=sometimes", "retries=5000", "as=perl\\ -w",
                "env.1=x", "evn.S=hunter2", "sha256=abc", "--", "\"", "\u201C", "\u00A0", "\u0001", "=", "a=",
                "sig=abc", "sig=", "sig=" + "A".repeat(90));
        Arbitrary<String> option = Arbitraries.frequencyOf(Tuple.of(8, good), Tuple.of(1, bad),
                Tuple.of(3, url().map(u -> "mirror=" + u)), Tuple.of(1, server().map(s -> "mirror=" + s)),
                Tuple.of(2, url().map(u -> "report=" + u)), Tuple.of(1, url().map(u -> "sig=" + u)));
        return Combinators.combine(head, option.list().ofMaxSize(2))
                .as((h, o) -> h + (o.isEmpty() ? "" : " " + String.join(" ", o)));
    }

    private static Arbitrary<String> name() {
        return Arbitraries.oneOf(Arbitraries.of("c.sh", "collector.pl", "role.sh", ".hidden", "a/b", "", "x$"),
                Arbitraries.strings().withCharRange('a', 'z').withChars('.', '-', '_').ofMinLength(1).ofMaxLength(8));
    }

    private static Arbitrary<String> server() {
        return Arbitraries.of("10.0.0.1", "10.0.0.1:8080", "1.2.3.4:99999", "999.1.1.1", "[fd00::1]", "[fd00::1]:0",
                "[fe80::1%eth0]", "fd00::1", "files.example", "my_host", "u:p@h", "h:", ":80", "[", "h.");
    }

    /** Mostly good URLs (so that plans get through and their URLs are checked), a quarter hostile. */
    static Arbitrary<String> url() {
        Arbitrary<String> good = Combinators.combine(Arbitraries.of("http", "https", "HTTPS"),
                        Arbitraries.of("files.example", "10.0.0.1", "[fd00::1]", "h.", "localhost"),
                        Arbitraries.of("", ":8080", ":65535", ":1"), Arbitraries.of("/c.sh", "/roles/d.sh", "/a%20b/e.sh"),
                        Arbitraries.of("", "?versionId=3", "?a=b&c"))
                .as((s, h, p, pa, q) -> s + "://" + h + p + pa + q);
        Arbitrary<String> file = Arbitraries.of("file:///opt/c.sh", "file:/opt/d.sh", "file:///a%20b/e.sh",
                "s3://my-roles/roles/f.sh", "s3://my-roles/g.sh?versionId=v1", "gs://my_roles/h.sh",
                "s3://My_Roles/i.sh", "gs://goog/j.sh", "s3://b/k.sh");
        return Arbitraries.frequencyOf(Tuple.of(4, good), Tuple.of(1, file), Tuple.of(2, hostileUrl()));
    }

    /** A good URL with one of its seven pieces replaced by a hostile one, so that each hostile piece is tried alone. */
    static Arbitrary<String> hostileUrl() {
        List<List<String>> hostile = List.of(
                List.of("file", "ftp", "s3", "mailto", "HTTP", "File"),
                List.of(":/", ":", ":///"),
                List.of("u@", "u:p@", "@"),
                List.of("my_host", "999.1.1.1", "[fe80::1%25eth0]", "", "-h", "[::1", "h%41", "[fe80::1%eth0]"),
                List.of(":0", ":65536", ":99999", ":", ":99999999999", ":-1", ":x"),
                List.of("/", "", "/dir/", "/a%00/c.sh", "/a%2Fb.sh", "/%zz.sh", "/c.sh/..", "/caf\u00e9.sh", "/..",
                        "/.c.sh"),
                List.of("#f", "?q#f", "#", "?", "?a=%zz"));
        List<String> good = List.of("https", "://", "", "files.example", "", "/roles/c.sh", "");
        return Combinators.combine(Arbitraries.integers().between(0, 6), Arbitraries.integers().between(0, 9))
                .as((piece, choice) -> {
                    List<String> pieces = new java.util.ArrayList<>(good);
                    pieces.set(piece, hostile.get(piece).get(choice % hostile.get(piece).size()));
                    return String.join("", pieces);
                });
    }

    @Provide
    Arbitrary<byte[]> mime() {
        Arbitrary<String> part = Combinators.combine(
                Arbitraries.of("text/x-whatami", "text/plain", "text/x-shellscript", "text/x-shellscript-per-boot",
                        "text/cloud-config", "text/cloud-boothook", "message/rfc822", "application/octet-stream",
                        "text/x-whatami; charset=latin1"),
                Arbitraries.of("", "Content-Transfer-Encoding: base64\n", "Content-Transfer-Encoding: quoted-printable\n",
                        "Content-Disposition: attachment; filename=\"role.sh\"\n",
                        "Content-Disposition: attachment; filename=\"../x\"\n"),
                Arbitraries.oneOf(lineData(), Arbitraries.of("#!/bin/sh\necho hi\n", "#cloud-config\n", "", "\u0000",
                        "=ZZ", "#!")))
                .as((type, header, body) -> "Content-Type: " + type + "\n" + header + "\n" + body);
        ListArbitrary<String> parts = part.list().ofMinSize(0).ofMaxSize(4);
        return Combinators.combine(parts, Arbitraries.integers().between(0, 14), Arbitraries.of(true, false),
                        Arbitraries.of(true, false), Arbitraries.integers().between(0, 100))
                .as((ps, depth, gzip, drop, cut) -> {
                    String s = "Content-Type: text/x-whatami\n\n" + String.join("\n", ps);
                    if (!ps.isEmpty()) {
                        StringBuilder b = new StringBuilder();
                        for (String p : ps) {
                            b.append("--X\n").append(p).append('\n');
                        }
                        s = "Content-Type: multipart/mixed; boundary=" + (drop ? "" : "X") + "\n\n" + b + "--X--\n";
                    }
                    for (int i = 0; i < depth; i++) {
                        String bd = "b" + i;
                        s = "Content-Type: multipart/mixed; boundary=" + bd + "\n\n--" + bd + "\n" + s + "\n--" + bd
                                + "--\n";
                    }
                    byte[] bytes = ("MIME-Version: 1.0\n" + s).getBytes(UTF_8);
                    if (cut < 15) { // damage: cut it short
                        bytes = Arrays.copyOf(bytes, bytes.length * cut / 15);
                    }
                    return gzip ? gzip(bytes) : bytes;
                });
    }

    private static byte[] gzip(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    @Property(tries = 5)
    void deepNestingGzipped_meetsTheContract(@ForAll("deep") byte[] data) {
        ParseOutcome.check(data);
    }

    @Provide
    Arbitrary<byte[]> deep() {
        return Arbitraries.of(500, 2000, 5000).map(n -> gzip(RunCanUseWhatCheckAcceptsTest.nested(n).getBytes(UTF_8)));
    }

}
