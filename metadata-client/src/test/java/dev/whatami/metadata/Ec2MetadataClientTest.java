package dev.whatami.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.metadata.FakeImds.Reply;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class Ec2MetadataClientTest {
    private final FakeImds imds = new FakeImds();
    private final FakeTime time = new FakeTime();

    @AfterEach
    void stop() {
        imds.close();
    }

    private MetadataClient.Builder client() {
        return MetadataClient.builder().endpoint(imds.endpoint()).clock(time).sleeper(time)
                .retryPolicy(RetryPolicy.builder().jitter(false).deadline(Duration.ofSeconds(10)).build());
    }

    private static String text(Optional<byte[]> bytes) {
        return new String(bytes.orElseThrow(), StandardCharsets.UTF_8);
    }

    @Test
    void userData_withImdsV2_sendsTtlAndThenTheToken() {
        imds.on("PUT", "/latest/api/token", Reply.ok("tok-1"))
                .on("GET", "/latest/user-data", Reply.ok("collector.pl 10.0.0.1"));
        try (MetadataClient c = client().tokenTtl(Duration.ofSeconds(300)).build()) {
            assertThat(text(c.userData())).isEqualTo("collector.pl 10.0.0.1");
        }
        assertThat(imds.requests.get(0).header("X-aws-ec2-metadata-token-ttl-seconds")).isEqualTo("300");
        assertThat(imds.requests.get(1).header("X-aws-ec2-metadata-token")).isEqualTo("tok-1");
    }

    @Test
    void userData_returns404_isEmptyNotAnError() {
        imds.on("PUT", "/latest/api/token", Reply.ok("t"));
        try (MetadataClient c = client().build()) {
            assertThat(c.userData()).isEmpty();
        }
        assertThat(imds.count("GET", "/latest/user-data")).isEqualTo(1);
    }

    @Test
    void tokenRefused404_fallsBackToImdsV1_andDoesNotAskAgain() {
        imds.on("GET", "/latest/user-data", Reply.ok("u")).on("GET", "/latest/meta-data/instance-id", Reply.ok("i-1"));
        try (MetadataClient c = client().build()) {
            assertThat(text(c.userData())).isEqualTo("u");
            assertThat(c.identity().instanceId()).isEqualTo("i-1");
        }
        assertThat(imds.count("PUT", "/latest/api/token")).isEqualTo(1);
        assertThat(imds.requests.get(1).header("X-aws-ec2-metadata-token")).isNull();
    }

    @Test
    void tokenRefused403_meansDisabled_andFailsAtOnce() {
        imds.on("PUT", "/latest/api/token", Reply.status(403));
        try (MetadataClient c = client().build()) {
            assertThatThrownBy(c::userData).isInstanceOf(MetadataRefusedException.class)
                    .hasMessageContaining("refused a token (HTTP 403): the instance metadata service is disabled");
        }
        assertThat(time.sleeps).isEmpty();
    }

    @Test
    void v2Required_andTokenNotOffered_isRefusedWithWhatToChange() {
        try (MetadataClient c = client().imdsV2Required(true).build()) {
            assertThatThrownBy(c::userData).isInstanceOf(MetadataRefusedException.class)
                    .hasMessageContaining("Drop --imds-v2-required to allow IMDSv1");
        }
        assertThat(imds.count("GET", "/latest/user-data")).isZero();
    }

    @Test
    void slowTokenPut_fallsBackToV1WithinTheTokenTimeout() {
        imds.on("PUT", "/latest/api/token", new Reply(200, "late", 5_000))
                .on("GET", "/latest/user-data", Reply.ok("v1 data"));
        long start = System.nanoTime();
        try (MetadataClient c = client().tokenTimeout(Duration.ofMillis(200)).build()) {
            assertThat(text(c.userData())).isEqualTo("v1 data");
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
        assertThat(imds.requests.stream().filter(r -> r.path().equals("/latest/user-data")).findFirst().orElseThrow()
                .header("X-aws-ec2-metadata-token")).isNull();
    }

    @Test
    void serverError_isRetriedWithExponentialBackoff() {
        imds.on("PUT", "/latest/api/token", Reply.ok("t"))
                .once("GET", "/latest/user-data", Reply.status(500))
                .once("GET", "/latest/user-data", Reply.status(503))
                .on("GET", "/latest/user-data", Reply.ok("third time"));
        try (MetadataClient c = client().build()) {
            assertThat(text(c.userData())).isEqualTo("third time");
        }
        assertThat(time.sleeps).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
    }

    @Test
    void clientError_isNotRetried() {
        imds.on("PUT", "/latest/api/token", Reply.ok("t")).on("GET", "/latest/user-data", Reply.status(400));
        try (MetadataClient c = client().build()) {
            assertThatThrownBy(c::userData).isInstanceOf(MetadataRefusedException.class)
                    .hasMessageContaining("answered HTTP 400");
        }
        assertThat(imds.count("GET", "/latest/user-data")).isEqualTo(1);
    }

    @Test
    void expiredToken401_isDroppedRefreshedAndRetriedOnce() {
        imds.once("PUT", "/latest/api/token", Reply.ok("old")).on("PUT", "/latest/api/token", Reply.ok("new"))
                .once("GET", "/latest/user-data", Reply.status(401))
                .on("GET", "/latest/user-data", Reply.ok("fresh"));
        try (MetadataClient c = client().build()) {
            assertThat(text(c.userData())).isEqualTo("fresh");
        }
        assertThat(imds.requests).extracting(FakeImds.Recorded::method)
                .containsExactly("PUT", "GET", "PUT", "GET");
        assertThat(imds.requests.get(3).header("X-aws-ec2-metadata-token")).isEqualTo("new");
    }

    @Test
    void token_isCachedUntilShortlyBeforeItsTtlEnds() {
        imds.on("PUT", "/latest/api/token", Reply.ok("t")).on("GET", "/latest/user-data", Reply.ok("u"));
        try (MetadataClient c = client().tokenTtl(Duration.ofSeconds(600)).build()) {
            c.userData();
            time.advance(Duration.ofSeconds(500));
            c.userData();
            assertThat(imds.count("PUT", "/latest/api/token")).isEqualTo(1);
            time.advance(Duration.ofSeconds(50)); // 550 s: inside the last minute of the TTL
            c.userData();
            assertThat(imds.count("PUT", "/latest/api/token")).isEqualTo(2);
        }
    }

    @Test
    void deadlineExhausted_saysHowManyAttemptsOverHowLong() {
        imds.on("PUT", "/latest/api/token", Reply.status(503));
        try (MetadataClient c = client().retryPolicy(RetryPolicy.builder().jitter(false)
                .baseDelay(Duration.ofSeconds(1)).maxDelay(Duration.ofSeconds(1)).deadline(Duration.ofSeconds(5))
                .build()).build()) {
            assertThatThrownBy(c::userData).isInstanceOf(MetadataUnreachableException.class)
                    .hasMessageStartingWith("no answer from " + imds.endpoint() + "/latest/user-data after 6 attempts "
                            + "over 5.0 s (deadline 5.0 s); last error: HTTP 503")
                    .satisfies(e -> assertThat(((MetadataException) e).attempts()).isEqualTo(6));
        }
    }

    @Test
    void serverThatAcceptsButNeverAnswers_hitsTheReadTimeout_andIsRetried() {
        imds.on("PUT", "/latest/api/token", Reply.ok("t"))
                .on("GET", "/latest/user-data", new Reply(200, "late", 10_000));
        try (MetadataClient c = client().readTimeout(Duration.ofMillis(200))
                .retryPolicy(RetryPolicy.builder().jitter(false).maxAttempts(2).build()).build()) {
            assertThatThrownBy(c::userData).isInstanceOf(MetadataUnreachableException.class)
                    .hasMessageContaining("after 2 attempts").hasMessageContaining("SocketTimeoutException");
        }
        assertThat(imds.count("GET", "/latest/user-data")).isEqualTo(2);
    }

    @Test
    void nothingListening_isUnreachableWithTheCause() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        try (MetadataClient c = client().endpoint(URI.create("http://127.0.0.1:" + port))
                .retryPolicy(RetryPolicy.builder().jitter(false).maxAttempts(3).build()).build()) {
            assertThatThrownBy(c::userData).isInstanceOf(MetadataUnreachableException.class)
                    .hasMessageContaining("after 3 attempts").hasMessageContaining("Connect");
        }
    }

    @Test
    void identity_readsInstanceIdZoneAndRegion() {
        imds.on("PUT", "/latest/api/token", Reply.ok("t"))
                .on("GET", "/latest/meta-data/instance-id", Reply.ok("i-0abc\n"))
                .on("GET", "/latest/meta-data/placement/availability-zone", Reply.ok("eu-west-1a"));
        try (MetadataClient c = client().build()) {
            InstanceIdentity id = c.identity();
            assertThat(id).isEqualTo(new InstanceIdentity("i-0abc", Provider.EC2, Optional.empty(),
                    Optional.of("eu-west-1a")));
        }
    }

    @Test
    void builder_rejectsANonHttpEndpoint() {
        assertThatThrownBy(() -> MetadataClient.builder().endpoint(URI.create("ftp://x")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("metadata endpoint must be an http or https URL with a host, e.g. http://127.0.0.1:8080; "
                        + "got ftp://x");
    }
}
