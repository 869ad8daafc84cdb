package dev.whatami.fetch.internal.cloud;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The signer against AWS's published Signature Version 4 test suite (the {@code aws-sig-v4-test-suite} cases for
 * GET; credentials AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, us-east-1, service "service", 2015-08-30
 * 12:36:00 UTC). Each row: the case's name, its method, path and query as sent, and the signature AWS publishes.
 */
class SigV4Test {
    private static final Instant WHEN = Instant.parse("2015-08-30T12:36:00Z");
    private static final String TOKEN = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuF"
            + "qwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQD"
            + "YwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC"
            + "9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "get-vanilla                 | GET  | /                                                              |                           | 5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "get-vanilla-query-order-key | GET  | /                                                              | Param1=value2&Param1=Value1 | eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1",
        "get-vanilla-empty-query-key | GET  | /                                                              | Param1=value1             | a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb",
        "get-unreserved              | GET  | /-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz |                      | 07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
        "get-utf8                    | GET  | /%E1%88%B4                                                     |                           | 8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
    })
    void awsTestSuite(String name, String method, String path, String query, String signature) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Host", "example.amazonaws.com");
        headers.put("X-Amz-Date", SigV4.amzDate(WHEN));
        assertThat(SigV4.authorization(method, path, query, headers, SigV4.EMPTY_SHA256, "AKIDEXAMPLE",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "service", WHEN))
                .isEqualTo("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                        + "SignedHeaders=host;x-amz-date, Signature=" + signature);
    }

    @ParameterizedTest(name = "post-sts-header-before")
    @CsvSource("85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead")
    void awsTestSuite_sessionTokenSigned(String signature) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Host", "example.amazonaws.com");
        headers.put("X-Amz-Date", SigV4.amzDate(WHEN));
        headers.put("X-Amz-Security-Token", TOKEN);
        assertThat(SigV4.authorization("POST", "/", null, headers, SigV4.EMPTY_SHA256, "AKIDEXAMPLE",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "service", WHEN))
                .isEqualTo("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                        + "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=" + signature);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "roles/collector.pl | roles/collector.pl",
        "a b+c(1)!.sh       | a%20b%2Bc%281%29%21.sh",
        "ሴ/x~y              | %E1%88%B4/x~y",
    })
    void keysAreEncodedTheAwsWay(String key, String encoded) {
        assertThat(SigV4.encode(key, false)).isEqualTo(encoded);
    }
}
