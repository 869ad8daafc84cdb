package dev.whatami.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.emulator.EmulatorRequest;
import dev.whatami.emulator.Faults;
import dev.whatami.emulator.MetadataEmulator;
import dev.whatami.testsupport.FakeTime;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The bad morning for IMDSv2: a v1 fallback lasts one call, a 401 always goes back to the token endpoint, a slow
 * token is retried within the deadline. The emulator's token delays are real time; backoff and deadlines run on a
 * fake clock.
 */
class ImdsV2NeverStickyTest {
    private static final String TOKEN = "/latest/api/token";
    private static final String TOKEN_HEADER = "X-aws-ec2-metadata-token";
    private final FakeTime time = new FakeTime();
    private MetadataEmulator imds;

    @AfterEach
    void stop() {
        if (imds != null) {
            imds.close();
        }
    }

    private static String text(Optional<byte[]> b) {
        return new String(b.orElseThrow(), StandardCharsets.UTF_8);
    }

    private List<String> exchange() {
        return imds.requests().stream().map(r -> r.method() + " " + r.path()
                + (r.header(TOKEN_HEADER).isPresent() ? " +token" : "")).toList();
    }

    /** Done when: "IMDSv2 required with a 1.5 s token answer: user-data read, default settings". */
    @Test
    void v2RequiredByTheService_tokenTakes1500ms_defaultSettings_readsTheUserData() {
        imds = MetadataEmulator.builder().userData("collector.pl 10.0.0.1").imdsV2Required(true).clock(time).start();
        imds.faults().slowToken(Duration.ofMillis(1500));
        try (MetadataClient c = MetadataClient.builder().endpoint(imds.endpoint()).clock(time).sleeper(time::sleep).build()) {
            assertThat(text(c.userData())).isEqualTo("collector.pl 10.0.0.1");
        }
        // the token times out after 1 s: IMDSv1 for this call; its 401 sends the client back, waiting up to 2 s
        // (a busy machine may need one more token request, waiting 4 s: the outcome is the same)
        List<String> seen = exchange();
        assertThat(seen).startsWith("PUT /latest/api/token", "GET /latest/user-data", "PUT /latest/api/token")
                .endsWith("GET /latest/user-data +token");
        assertThat(seen.subList(2, seen.size() - 1)).containsOnly("PUT /latest/api/token");
    }

    /** Done when: "a slow 1.2 s token with v1 disabled and a 20 s deadline succeeds". */
    @Test
    void v1Disabled_tokenTakes1200ms_deadline20s_succeeds() {
        imds = MetadataEmulator.builder().userData("u").imdsV2Required(true).clock(time).start();
        imds.faults().slowToken(Duration.ofMillis(1200));
        try (MetadataClient c = MetadataClient.builder().endpoint(imds.endpoint()).clock(time).sleeper(time::sleep)
                .imdsV2Required(true).retryPolicy(RetryPolicy.builder().deadline(Duration.ofSeconds(20)).build())
                .build()) {
            assertThat(text(c.userData())).isEqualTo("u");
        }
        List<String> seen = exchange();
        assertThat(seen).startsWith("PUT /latest/api/token").endsWith("GET /latest/user-data +token");
        assertThat(seen.subList(0, seen.size() - 1)).containsOnly("PUT /latest/api/token"); // never without a token
    }

    @Test
    void v1Disabled_tokenSlowerThanEveryTimeout_isAskedAgainWaitingLonger_neverWithoutAToken() {
        imds = MetadataEmulator.builder().userData("u").imdsV2Required(true).clock(time).start();
        imds.faults().forPath(TOKEN).slowNext(1, Duration.ofMillis(2300));
        try (MetadataClient c = MetadataClient.builder().endpoint(imds.endpoint()).clock(time).sleeper(time::sleep)
                .imdsV2Required(true).readTimeout(Duration.ofSeconds(2))
                .retryPolicy(RetryPolicy.builder().jitter(false).deadline(Duration.ofSeconds(20)).build()).build()) {
            assertThat(text(c.userData())).isEqualTo("u");
        }
        assertThat(exchange()).containsExactly("PUT /latest/api/token", "PUT /latest/api/token",
                "GET /latest/user-data +token");
        assertThat(time.sleeps()).containsExactly(Duration.ofMillis(100));
    }

    @Test
    void aV1Fallback_lastsOneCall_theNextCallAsksForATokenAgain() {
        imds = MetadataEmulator.builder().userData("u").instanceId("i-1").clock(time).start();
        imds.faults().forPath(TOKEN).hangNext(1);
        try (MetadataClient c = MetadataClient.builder().endpoint(imds.endpoint()).clock(time).sleeper(time::sleep)
                .tokenTimeout(Duration.ofSeconds(1)).build()) {
            assertThat(text(c.userData())).isEqualTo("u");
            assertThat(c.identity().instanceId()).isEqualTo("i-1");
        }
        assertThat(exchange()).containsExactly("PUT /latest/api/token", "GET /latest/user-data",
                "PUT /latest/api/token", "GET /latest/meta-data/instance-id +token",
                "GET /latest/meta-data/placement/availability-zone +token",
                "GET /latest/meta-data/placement/region +token");
    }

    @Test
    void withinOneCall_theFallbackHolds_forEveryValueOfTheCall() {
        imds = MetadataEmulator.builder().instanceId("i-1").clock(time).start();
        imds.faults().forPath(TOKEN).hangNext(1);
        try (MetadataClient c = MetadataClient.builder().endpoint(imds.endpoint()).clock(time).sleeper(time::sleep)
                .tokenTimeout(Duration.ofSeconds(1)).build()) {
            assertThat(c.identity().region()).contains("us-east-1");
        }
        assertThat(exchange()).containsExactly("PUT /latest/api/token", "GET /latest/meta-data/instance-id",
                "GET /latest/meta-data/placement/availability-zone", "GET /latest/meta-data/placement/region");
    }

    @Test
    void a401_alwaysGoesBackToTheTokenEndpoint_evenAfterAFallback() {
        imds = MetadataEmulator.builder().userData("u").clock(time).start();
        imds.faults().forPath(TOKEN).hangNext(1).forPath("/latest/user-data").failNext(1, 401);
        try (MetadataClient c = MetadataClient.builder().endpoint(imds.endpoint()).clock(time).sleeper(time::sleep)
                .tokenTimeout(Duration.ofSeconds(1)).build()) {
            assertThat(text(c.userData())).isEqualTo("u");
        }
        assertThat(exchange()).containsExactly("PUT /latest/api/token", "GET /latest/user-data",
                "PUT /latest/api/token", "GET /latest/user-data +token");
    }

    @Test
    void tokensRefusedAgainAndAgain_areATokenRejection_afterThree() {
        imds = MetadataEmulator.builder().userData("u").clock(time).start();
        imds.faults().forPath("/latest/user-data").failNext(Faults.ALWAYS, 401);
        try (MetadataClient c = MetadataClient.builder().endpoint(imds.endpoint()).clock(time).sleeper(time::sleep)
                .build()) {
            assertThatThrownBy(c::userData).isInstanceOf(MetadataRefusedException.class)
                    .hasMessage("the metadata service at " + imds.endpoint() + " refused 3 IMDSv2 tokens it had just "
                            + "handed out (HTTP 401 for " + imds.endpoint() + "/latest/user-data); its clock or token "
                            + "store is broken, or something between rewrites the requests")
                    .extracting(e -> ((MetadataException) e).reason())
                    .isEqualTo(MetadataException.Reason.TOKEN_REJECTED);
        }
        assertThat(imds.requestCount("PUT", TOKEN)).isEqualTo(3);
        assertThat(imds.requests()).filteredOn(r -> r.method().equals("GET"))
                .allSatisfy(r -> assertThat(r.header(TOKEN_HEADER)).isPresent());
    }

    @Test
    void tokenServedWithAnExpiry_isRenewedAtTheEmulatorsClock() {
        imds = MetadataEmulator.builder().userData("u").imdsV2Required(true).clock(time).start();
        try (MetadataClient c = MetadataClient.builder().endpoint(imds.endpoint()).clock(time).sleeper(time::sleep)
                .tokenTtl(Duration.ofSeconds(60)).build()) {
            c.userData();
            time.advance(Duration.ofSeconds(61)); // the emulator's token expired; the client knows and renews
            c.userData();
        }
        List<EmulatorRequest> r = imds.requests();
        assertThat(exchange()).containsExactly("PUT /latest/api/token", "GET /latest/user-data +token",
                "PUT /latest/api/token", "GET /latest/user-data +token");
        assertThat(r.get(3).header(TOKEN_HEADER)).isNotEqualTo(r.get(1).header(TOKEN_HEADER));
    }
}
