package dev.whatami.userdata;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** s3:// and gs:// origins, sig= (inline or a URL), and signatures carried by inline scripts. */
class CloudOriginsAndSignaturesTest {
    private static final byte[] SIG = new byte[64];
    private static final String SIG64;

    static {
        for (int i = 0; i < SIG.length; i++) {
            SIG[i] = (byte) (i * 7 + 3);
        }
        SIG64 = Base64.getEncoder().encodeToString(SIG);
    }

    private final UserDataParser parser = UserDataParser.create();

    private TaskPlan parse(String text) {
        return parser.parse(text.getBytes(UTF_8));
    }

    private UserDataException failure(String text) {
        try {
            parse(text);
        } catch (UserDataException e) {
            return e;
        }
        throw new AssertionError("expected a UserDataException for " + text);
    }

    @Test
    void s3AndGsUrls_areScriptsAndMirrors_namedByTheirLastSegment() {
        TaskSpec s3 = parse("s3://my-roles/roles/collector.pl?versionId=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY "
                + "mirror=my-roles-eu mirror=gs://my_roles/roles/collector.pl").tasks().get(0);
        assertThat(s3.name()).isEqualTo("collector.pl");
        assertThat(s3.server()).contains("my-roles");
        assertThat(((TaskSource.Remote) s3.source()).allUrls()).containsExactly(
                URI.create("s3://my-roles/roles/collector.pl?versionId=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"),
                URI.create("s3://my-roles-eu/roles/collector.pl"), // the same key in another bucket, unversioned
                URI.create("gs://my_roles/roles/collector.pl"));
        assertThat(parse(LineForm.render(s3)).tasks()).containsExactly(s3);
        TaskSpec gs = parse("gs://roles.example.com/c.sh").tasks().get(0);
        assertThat(gs.name()).isEqualTo("c.sh");
        assertThat(parse(LineForm.render(gs)).tasks()).containsExactly(gs);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "s3://ab/c.sh                       | the bucket name \"ab\" in s3://ab/c.sh is 2 characters long; a bucket name has 3-63; e.g. s3://my-roles/collector.pl",
        "s3://My_Roles/c.sh                 | the bucket name \"My_Roles\" in s3://My_Roles/c.sh may hold only a-z 0-9 . - (lower case); e.g. s3://my-roles/collector.pl",
        "s3://-roles/c.sh                   | the bucket name \"-roles\" in s3://-roles/c.sh must start and end with a letter or digit",
        "s3://my..roles/c.sh                | has two dots in a row, which S3 does not allow",
        "s3://192.168.7.77/c.sh             | looks like an IP address, which a bucket name may not",
        "s3://xn--roles/c.sh                | starts with \"xn--\", a prefix S3 reserves",
        "s3://roles-s3alias/c.sh            | ends with \"-s3alias\", a suffix S3 reserves",
        "s3://roles:443/c.sh                | may hold only a-z 0-9 . - (lower case)",
        "s3://my-roles/                     | the URL s3://my-roles/ names a bucket but no object; write e.g. s3://my-roles/roles/collector.pl",
        "s3://my-roles/c.sh?X-Amz-Signature=abc | the URL s3://my-roles/c.sh?*** has a query other than ?versionId=<id>, which is all an s3:// URL takes; for a presigned URL use its https:// form (with sig= for the script's signature).",
        "gs://goog-roles/c.sh               | starts with \"goog\" or holds \"google\", which Cloud Storage does not allow",
        "gs://my-g00gle-roles/c.sh          | starts with \"goog\" or holds \"google\"",
        "gs://Roles/c.sh                    | may hold only a-z 0-9 . - _ (lower case); e.g. gs://my-roles/collector.pl",
        "gs://my-roles/c.sh?generation=1    | the URL gs://my-roles/c.sh?*** has a query (?...), which a gs:// URL does not take",
        "s3://user:pw@my-roles/c.sh         | the URL s3://***@my-roles/c.sh carries credentials",
    })
    void badBucketUrls_areRefusedWithTheRule(String url, String message) {
        UserDataException e = failure(url);
        assertThat(e.problems()).singleElement().satisfies(p -> {
            assertThat(p.line()).isEqualTo(1);
            assertThat(p.column()).isEqualTo(1);
            assertThat(p.message()).contains(message);
        });
    }

    @Test
    void aBucketMirror_followsTheBucketRules_atItsValue() {
        assertThat(failure("s3://my-roles/c.sh mirror=Other_Bucket").problems()).singleElement()
                .hasToString("line 1, column 27: the bucket name \"Other_Bucket\" in s3://Other_Bucket/c.sh may hold "
                        + "only a-z 0-9 . - (lower case); e.g. s3://my-roles/collector.pl");
    }

    @Test
    void sigInline_base64OfSixtyFourBytes_paddedOrNot_standardOrUrlSafe() {
        TaskSpec padded = parse("c.sh 10.0.0.1 sig=" + SIG64).tasks().get(0);
        assertThat(padded.signature()).contains(new Signature.Inline(SIG));
        assertThat(parse("c.sh 10.0.0.1 sig=" + SIG64.replace("=", "")).tasks().get(0).signature())
                .contains(new Signature.Inline(SIG));
        assertThat(parse("c.sh 10.0.0.1 sig=" + Base64.getUrlEncoder().withoutPadding().encodeToString(SIG)).tasks()
                .get(0).signature()).contains(new Signature.Inline(SIG));
        assertThat(LineForm.render(padded)).isEqualTo("c.sh 10.0.0.1 sig=" + SIG64);
        assertThat(parse(LineForm.render(padded)).tasks()).containsExactly(padded);
    }

    @Test
    void sigUrl_mayBePresigned_andIsShownRedacted() {
        String presigned = "https://bucket.s3.amazonaws.com/roles/c.sh.sig?X-Amz-Signature=hunter2&X-Amz-Expires=900";
        TaskSpec task = parse("https://bucket.s3.amazonaws.com/roles/c.sh?X-Amz-Signature=hunter3 sig=" + presigned)
                .tasks().get(0);
        assertThat(task.signature()).contains(new Signature.Remote(URI.create(presigned)));
        assertThat(task.signature().orElseThrow()).hasToString("sig=https://bucket.s3.amazonaws.com/roles/c.sh.sig?***");
        assertThat(parse(LineForm.render(task)).tasks()).containsExactly(task);
        assertThat(parse("s3://my-roles/c.sh sig=s3://my-roles/c.sh.sig").tasks().get(0).signature())
                .contains(new Signature.Remote(URI.create("s3://my-roles/c.sh.sig")));
        // a warning that shows the line shows the signature's URL redacted
        assertThat(parse("\"c.sh 10.0.0.1 sig=" + presigned + "\"").warnings().get(0).message())
                .endsWith("Write: c.sh 10.0.0.1 sig=https://bucket.s3.amazonaws.com/roles/c.sh.sig?***");
    }

    @Test
    void badSig_isRefusedSayingWhatToWrite() {
        String how = " write the base64 of the signature's 64 bytes (88 characters, as whatami-server sign prints it), "
                + "or the signature's URL, e.g. sig=https://files.example/roles/collector.pl.sig";
        assertThat(failure("c.sh 10.0.0.1 sig=" + Base64.getEncoder().encodeToString(new byte[32])).problems())
                .singleElement().hasToString("line 1, column 15: the signature is 32 bytes, but an Ed25519 signature "
                        + "is 64;" + how);
        assertThat(failure("c.sh 10.0.0.1 sig=not*base64").problems()).singleElement()
                .hasToString("line 1, column 15: the signature is neither base64 nor a URL;" + how);
        assertThat(failure("c.sh 10.0.0.1 sig=ftp://h/c.sh.sig").getMessage()).contains("unsupported URL scheme "
                + "\"ftp\"");
        assertThat(failure("c.sh 10.0.0.1 sig=https://u:hunter2@h/c.sh.sig").getMessage())
                .contains("carries credentials").doesNotContain("hunter2");
        assertThat(failure("c.sh 10.0.0.1 sig=" + SIG64 + " sig=" + SIG64).getMessage()).contains("\"sig\" is given "
                + "twice; keep one.");
        assertThat(failure("c.sh 10.0.0.1 sig=").getMessage()).contains("\"sig=\" has no value; write e.g. "
                + "sig=<base64 from whatami-server sign>");
    }

    @Test
    void theSignature_isNotPartOfTheIdentity() {
        TaskSpec unsigned = parse("c.sh 10.0.0.1").tasks().get(0);
        TaskSpec signed = parse("c.sh 10.0.0.1 sig=" + SIG64).tasks().get(0);
        assertThat(signed).isNotEqualTo(unsigned);
        assertThat(signed.identity()).isEqualTo(unsigned.identity());
    }

    @Test
    void scriptForm_carriesItsSignatureOnItsSecondLine_andRunsWhatWasSigned() {
        String signed = "#!/bin/sh\necho hi\n";
        TaskSpec task = parse("#!/bin/sh\n#whatami-signature: " + SIG64 + "\necho hi\n").tasks().get(0);
        assertThat(task.source()).isEqualTo(new TaskSource.Inline(signed.getBytes(UTF_8)));
        assertThat(task.signature()).contains(new Signature.Inline(SIG));
        assertThat(parse("#!/bin/sh\r\n# WHATAMI-SIGNATURE:\t" + SIG64 + " \r\necho hi\r\n").tasks().get(0)
                .source()).isEqualTo(new TaskSource.Inline("#!/bin/sh\r\necho hi\r\n".getBytes(UTF_8)));
        assertThat(parse("#!/bin/sh\n#whatami-signature: " + SIG64).tasks().get(0).source())
                .isEqualTo(new TaskSource.Inline("#!/bin/sh\n".getBytes(UTF_8)));
        // only the second line is the signature line; elsewhere it is a comment like any other
        TaskSpec third = parse("#!/bin/sh\necho hi\n#whatami-signature: " + SIG64 + "\n").tasks().get(0);
        assertThat(third.signature()).isEmpty();
        assertThat(((TaskSource.Inline) third.source()).size()).isEqualTo(("#!/bin/sh\necho hi\n#whatami-signature: "
                + SIG64 + "\n").length());
        assertThat(parse("#!/bin/sh\necho hi\n").tasks().get(0).signature()).isEmpty();
    }

    @Test
    void aBadSignatureLine_isLocatedOnLineTwo() {
        assertThat(failure("#!/bin/sh\n#whatami-signature: abc\necho hi\n").problems()).singleElement()
                .satisfies(p -> {
                    assertThat(p.line()).isEqualTo(2);
                    assertThat(p.column()).isEqualTo(21);
                    assertThat(p.message()).startsWith("its #whatami-signature: line: the signature is 2 bytes, but "
                            + "an Ed25519 signature is 64;");
                });
        assertThat(failure("#!/bin/sh\n#whatami-signature:\n").problems().get(0).message())
                .startsWith("the #whatami-signature: line gives no signature");
    }

    private static String mime(String... parts) {
        StringBuilder b = new StringBuilder("Content-Type: multipart/mixed; boundary=\"B\"\nMIME-Version: 1.0\n\n");
        for (String p : parts) {
            b.append("--B\n").append(p).append('\n');
        }
        return b.append("--B--\n").toString();
    }

    @Test
    void mimeScriptParts_carryTheirSignatureInAHeader_orOnTheirSecondLine() {
        String body = Base64.getMimeEncoder().encodeToString("#!/bin/sh\necho signed\n".getBytes(UTF_8));
        TaskPlan plan = parse(mime(
                "Content-Type: text/x-shellscript\nContent-Transfer-Encoding: base64\nX-Whatami-Signature: " + SIG64
                        + "\nContent-Disposition: attachment; filename=\"a.sh\"\n\n" + body,
                "Content-Type: text/x-shellscript\nContent-Disposition: attachment; filename=\"b.sh\"\n\n#!/bin/sh\n"
                        + "#whatami-signature: " + SIG64 + "\necho b",
                "Content-Type: text/x-shellscript\nx-whatami-signature: https://h/c.sh.sig?token=x\n"
                        + "Content-Disposition: attachment; filename=\"c.sh\"\n\n#!/bin/sh\n"));
        assertThat(plan.tasks()).extracting(TaskSpec::signature).containsExactly(
                java.util.Optional.of(new Signature.Inline(SIG)), java.util.Optional.of(new Signature.Inline(SIG)),
                java.util.Optional.of(new Signature.Remote(URI.create("https://h/c.sh.sig?token=x"))));
        assertThat(plan.tasks().get(0).source()).isEqualTo(new TaskSource.Inline("#!/bin/sh\necho signed\n"
                .getBytes(UTF_8)));
        // the line break before a boundary belongs to the boundary
        assertThat(plan.tasks().get(1).source()).isEqualTo(new TaskSource.Inline("#!/bin/sh\necho b"
                .getBytes(UTF_8)));
    }

    @Test
    void mimeSignatureProblems_nameThePart() {
        assertThat(failure(mime(
                "Content-Type: text/x-shellscript\nX-Whatami-Signature: " + SIG64 + "\n\n#!/bin/sh\n#whatami-signature: "
                        + SIG64 + "\n",
                "Content-Type: text/x-shellscript\nX-Whatami-Signature: nope!\n\n#!/bin/sh\n",
                "Content-Type: text/x-whatami\nX-Whatami-Signature: " + SIG64 + "\n\nc.sh 10.0.0.1\n",
                "Content-Type: text/x-shellscript\n\n#!/bin/sh\n#whatami-signature: abc\n")).problems())
                .extracting(Problem::toString).containsExactly(
                        "MIME part 1 (text/x-shellscript) carries two signatures, an X-Whatami-Signature header and a "
                                + "#whatami-signature: line; keep one.",
                        "MIME part 2 (text/x-shellscript): its X-Whatami-Signature header: the signature is neither "
                                + "base64 nor a URL; write the base64 of the signature's 64 bytes (88 characters, as "
                                + "whatami-server sign prints it), or the signature's URL, e.g. "
                                + "sig=https://files.example/roles/collector.pl.sig",
                        "MIME part 3 (text/x-whatami) has an X-Whatami-Signature header, but only script parts "
                                + "(text/x-shellscript) are signed; task lines are not: sign the scripts they name (sig= "
                                + "on each line) and drop the header.",
                        "line 2, column 21: MIME part 4 (text/x-shellscript): its #whatami-signature: line: the "
                                + "signature is 2 bytes, but an Ed25519 signature is 64; write the base64 of the "
                                + "signature's 64 bytes (88 characters, as whatami-server sign prints it), or the "
                                + "signature's URL, e.g. sig=https://files.example/roles/collector.pl.sig");
    }

    @Test
    void theBuilder_takesSignatures_andRefusesUrlsTheFetcherCannotUse() {
        TaskSpec.Builder b = TaskSpec.builder("c.sh", new TaskSource.Remote(URI.create("https://h/c.sh"), List.of()));
        assertThat(b.signature(new Signature.Inline(SIG)).build().signature()).contains(new Signature.Inline(SIG));
        assertThatThrownBy(() -> b.signature(new Signature.Remote(URI.create("ftp://h/c.sh.sig"))))
                .hasMessage("signature(...): unsupported URL scheme \"ftp\" in ftp://h/c.sh.sig; use one of file, gs, "
                        + "http, https, s3.");
        assertThatThrownBy(() -> new Signature.Inline(new byte[63])).hasMessage("an Ed25519 signature is 64 bytes, "
                + "got 63");
    }
}
