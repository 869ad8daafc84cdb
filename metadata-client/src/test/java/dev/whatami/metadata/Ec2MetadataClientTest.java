package dev.whatami.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.emulator.EmulatorRequest;
import dev.whatami.emulator.Faults;
import dev.whatami.emulator.MetadataEmulator;
import dev.whatami.emulator.MetadataService;
import dev.whatami.testsupport.FakeTime;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The EC2 client against the metadata emulator: IMDSv2 tokens, fallbacks, retries, deadlines. */
class Ec2MetadataClientTest {
    private static final String TOKEN = "/latest/api/token";
    private static final String USER_DATA = "/latest/user-data";
    private final FakeTime time = new FakeTime();
    private MetadataEmulator imds;

    private MetadataEmulator imds(Consumer<MetadataService.Builder> settings) {
        MetadataService.Builder b = MetadataEmulator.builder().clock(time);
        settings.accept(b);
        imds = b.start();
        return imds;
    }

    @AfterEach
    void stop() {
        if (imds != null) {
            imds.close();
        }
    }

    private MetadataClient.Builder client() {
        return MetadataClient.builder().endpoint(imds.endpoint()).clock(time).sleeper(time::sleep)
                .retryPolicy(RetryPolicy.builder().jitter(false).deadline(Duration.ofSeconds(10)).build());
    }

    private static String text(Optional<byte[]> bytes) {
        return new String(bytes.orElseThrow(), StandardCharsets.UTF_8);
    }

    private List<String> methods() {
        return imds.requests().stream().map(EmulatorRequest::method).toList();
    }

    @Test
    void userData_withImdsV2_sendsTtlAndThenTheToken() {
        imds(b -> b.userData("collector.pl 10.0.0.1").imdsV2Required(true));
        try (MetadataClient c = client().tokenTtl(Duration.ofSeconds(300)).build()) {
            assertThat(text(c.userData())).isEqualTo("collector.pl 10.0.0.1");
        }
        List<EmulatorRequest> r = imds.requests();
        assertThat(r.get(0).header("X-aws-ec2-metadata-token-ttl-seconds")).hasValue("300");
        assertThat(r.get(1).header("X-aws-ec2-metadata-token")).hasValueSatisfying(t -> assertThat(t).hasSize(54));
    }

    @Test
    void userData_returns404_isEmptyNotAnError() {
        imds(b -> { });
        try (MetadataClient c = client().build()) {
            assertThat(c.userData()).isEmpty();
        }
        assertThat(imds.requestCount("GET", USER_DATA)).isEqualTo(1);
    }

    @Test
    void tokenNotOffered404_readsWithImdsV1_forThatCallOnly() {
        imds(b -> b.userData("u").instanceId("i-1"));
        imds.faults().forPath(TOKEN).failNext(Faults.ALWAYS, 404); // a service without IMDSv2 (an old OpenStack)
        try (MetadataClient c = client().build()) {
            assertThat(text(c.userData())).isEqualTo("u");
            assertThat(c.identity().instanceId()).isEqualTo("i-1");
        }
        assertThat(imds.requestCount("PUT", TOKEN)).isEqualTo(2); // each call asks again: IMDSv1 is never sticky
        assertThat(imds.requests()).filteredOn(r -> r.method().equals("GET"))
                .allSatisfy(r -> assertThat(r.header("X-aws-ec2-metadata-token")).isEmpty());
    }

    @Test
    void tokenRefused403_meansDisabled_andFailsAtOnce() {
        imds(b -> { });
        imds.faults().forPath(TOKEN).failNext(Faults.ALWAYS, 403);
        try (MetadataClient c = client().build()) {
            assertThatThrownBy(c::userData).isInstanceOf(MetadataRefusedException.class)
                    .hasMessageContaining("refused a token (HTTP 403): the instance metadata service is disabled")
                    .hasMessageContaining("provider(Provider.NOCLOUD) with noCloudSource(path)")
                    .extracting(e -> ((MetadataException) e).reason()).isEqualTo(MetadataException.Reason.SERVICE_DISABLED);
        }
        assertThat(time.sleeps()).isEmpty();
    }

    @Test
    void v2Required_andTokenNotOffered_isRefusedWithWhatToChange() {
        imds(b -> { });
        imds.faults().forPath(TOKEN).failNext(Faults.ALWAYS, 404);
        try (MetadataClient c = client().imdsV2Required(true).build()) {
            assertThatThrownBy(c::userData).isInstanceOf(MetadataRefusedException.class)
                    .hasMessage("IMDSv2 is required (imdsV2Required(true)) but " + imds.endpoint() + "/latest/api/token "
                            + "answered HTTP 404 to the token request: the service does not offer IMDSv2. Call "
                            + "imdsV2Required(false) to allow IMDSv1.")
                    .extracting(e -> ((MetadataException) e).reason())
                    .isEqualTo(MetadataException.Reason.IMDS_V2_UNAVAILABLE);
        }
        assertThat(imds.requestCount("GET", USER_DATA)).isZero();
    }

    /** A busy server just started answers 408 to a token request it waited too long for: a reason to ask again. */
    @Test
    void v2Required_andToken408_isRetried_notTakenForAServiceWithoutIMDSv2() {
        imds(b -> b.userData("after a busy start").imdsV2Required(true));
        imds.faults().forPath(TOKEN).failNext(2, 408);
        try (MetadataClient c = client().imdsV2Required(true).build()) {
            assertThat(text(c.userData())).isEqualTo("after a busy start");
        }
        assertThat(imds.requestCount("PUT", TOKEN)).isEqualTo(3);
        assertThat(time.sleeps()).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
        assertThat(imds.requests().stream().filter(r -> r.path().equals(USER_DATA)).findFirst().orElseThrow()
                .header("X-aws-ec2-metadata-token")).isPresent();
    }

    @Test
    void token408_withImdsV1Allowed_readsWithImdsV1ForThatCall_asASlowTokenDoes() {
        imds(b -> b.userData("v1 after a 408"));
        imds.faults().forPath(TOKEN).failNext(1, 408);
        try (MetadataClient c = client().build()) {
            assertThat(text(c.userData())).isEqualTo("v1 after a 408");
            assertThat(text(c.userData())).isEqualTo("v1 after a 408");
        }
        assertThat(imds.requestCount("PUT", TOKEN)).isEqualTo(2); // the second call asked for a token again
        List<EmulatorRequest> reads = imds.requests().stream().filter(r -> r.path().equals(USER_DATA)).toList();
        assertThat(reads).hasSize(2);
        assertThat(reads.get(0).header("X-aws-ec2-metadata-token")).isEmpty();
        assertThat(reads.get(1).header("X-aws-ec2-metadata-token")).isPresent();
        assertThat(time.sleeps()).isEmpty();
    }

    @Test
    void slowTokenPut_fallsBackToV1WithinTheTokenTimeout() {
        imds(b -> b.userData("v1 data"));
        imds.faults().slowToken(Duration.ofSeconds(5));
        long start = System.nanoTime();
        try (MetadataClient c = client().tokenTimeout(Duration.ofMillis(200)).build()) {
            assertThat(text(c.userData())).isEqualTo("v1 data");
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
        assertThat(imds.requests().stream().filter(r -> r.path().equals(USER_DATA)).findFirst().orElseThrow()
                .header("X-aws-ec2-metadata-token")).isEmpty();
    }

    @Test
    void serverError_isRetriedWithExponentialBackoff() {
        imds(b -> b.userData("third time"));
        imds.faults().forPath(USER_DATA).failNext(1, 500).failNext(1, 503);
        try (MetadataClient c = client().build()) {
            assertThat(text(c.userData())).isEqualTo("third time");
        }
        assertThat(time.sleeps()).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
    }

    @Test
    void clientError_isNotRetried() {
        imds(b -> b.userData("u"));
        imds.faults().forPath(USER_DATA).failNext(Faults.ALWAYS, 400);
        try (MetadataClient c = client().build()) {
            assertThatThrownBy(c::userData).isInstanceOf(MetadataRefusedException.class)
                    .hasMessageContaining("answered HTTP 400");
        }
        assertThat(imds.requestCount("GET", USER_DATA)).isEqualTo(1);
    }

    @Test
    void rejectedToken401_isDroppedRefreshedAndRetriedOnce() {
        imds(b -> b.userData("fresh"));
        imds.faults().forPath(USER_DATA).failNext(1, 401);
        try (MetadataClient c = client().build()) {
            assertThat(text(c.userData())).isEqualTo("fresh");
        }
        assertThat(methods()).containsExactly("PUT", "GET", "PUT", "GET");
        List<EmulatorRequest> r = imds.requests();
        assertThat(r.get(3).header("X-aws-ec2-metadata-token")).isNotEqualTo(r.get(1).header("X-aws-ec2-metadata-token"));
    }

    @Test
    void token_isCachedUntilShortlyBeforeItsTtlEnds() {
        imds(b -> b.userData("u").imdsV2Required(true));
        try (MetadataClient c = client().tokenTtl(Duration.ofSeconds(600)).build()) {
            c.userData();
            time.advance(Duration.ofSeconds(500));
            c.userData();
            assertThat(imds.requestCount("PUT", TOKEN)).isEqualTo(1);
            time.advance(Duration.ofSeconds(50)); // 550 s: inside the last minute of the TTL
            c.userData();
            assertThat(imds.requestCount("PUT", TOKEN)).isEqualTo(2);
        }
    }

    @Test
    void deadlineExhausted_saysHowManyAttemptsOverHowLong() {
        imds(b -> { });
        imds.faults().forPath(TOKEN).failNext(Faults.ALWAYS, 503);
        try (MetadataClient c = client().retryPolicy(RetryPolicy.builder().jitter(false)
                .baseDelay(Duration.ofSeconds(1)).maxDelay(Duration.ofSeconds(1)).deadline(Duration.ofSeconds(5))
                .build()).build()) {
            assertThatThrownBy(c::userData).isInstanceOf(MetadataUnreachableException.class)
                    .hasMessage("no answer from " + imds.endpoint() + "/latest/user-data after 5 attempts over 4.0 s "
                            + "(deadline 5.0 s); last error: HTTP 503 Service Unavailable. Check that the metadata "
                            + "service is reachable from this machine, or name the provider and the endpoint with "
                            + "MetadataClient.Builder's provider(...) and endpoint(...); retryPolicy(...) sets the "
                            + "deadline.")
                    .satisfies(e -> assertThat(((MetadataException) e).attempts()).isEqualTo(5))
                    .satisfies(e -> assertThat(((MetadataException) e).reason())
                            .isEqualTo(MetadataException.Reason.UNREACHABLE));
        }
    }

    @Test
    void serverThatAcceptsButNeverAnswers_hitsTheReadTimeout_andIsRetried() {
        imds(b -> b.userData("u"));
        imds.faults().forPath(USER_DATA).hangNext(Faults.ALWAYS);
        try (MetadataClient c = client().readTimeout(Duration.ofMillis(200))
                .retryPolicy(RetryPolicy.builder().jitter(false).maxAttempts(2).build()).build()) {
            assertThatThrownBy(c::userData).isInstanceOf(MetadataUnreachableException.class)
                    .hasMessageContaining("after 2 attempts").hasMessageContaining("SocketTimeoutException");
        }
        assertThat(imds.requestCount("GET", USER_DATA)).isEqualTo(2);
    }

    @Test
    void nothingListening_isUnreachableWithTheCause() throws Exception {
        imds(b -> { });
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
        imds(b -> b.instanceId("i-0abc").availabilityZone("eu-west-1a"));
        try (MetadataClient c = client().build()) {
            assertThat(c.identity()).isEqualTo(new InstanceIdentity("i-0abc", Provider.EC2, Optional.of("eu-west-1"),
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
