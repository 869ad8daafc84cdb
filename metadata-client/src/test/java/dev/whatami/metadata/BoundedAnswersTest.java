package dev.whatami.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.whatami.emulator.Cloud;
import dev.whatami.emulator.Faults;
import dev.whatami.emulator.MetadataEmulator;
import dev.whatami.testsupport.FakeTime;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** every answer is size-capped and under the call's deadline, and cut — never drained. */
class BoundedAnswersTest {
    private static final Duration GUARD = Duration.ofSeconds(30);

    @Test
    void anEndlessChunkedUserData_isTooLarge_foundAtTheCap_notDrained() {
        try (MetadataEmulator imds = MetadataEmulator.builder().userData("u").start()) {
            imds.faults().forPath("/latest/user-data").endlessBodyNext(Faults.ALWAYS);
            assertTimeoutPreemptively(GUARD, () -> {
                try (MetadataClient c = MetadataClient.builder().endpoint(imds.endpoint()).build()) {
                    assertThatThrownBy(c::userData).isInstanceOf(UserDataTooLargeException.class)
                            .hasMessage("the user-data at " + imds.endpoint() + "/latest/user-data is larger than "
                                    + "16777216 bytes (16 MiB), the most whatami accepts; make it smaller (gzip it, or "
                                    + "move the scripts to a file server and name them in the user-data)")
                            .satisfies(e -> assertThat(((UserDataTooLargeException) e).limit()).isEqualTo(16 << 20))
                            .extracting(e -> ((MetadataException) e).reason())
                            .isEqualTo(MetadataException.Reason.USER_DATA_TOO_LARGE);
                }
            });
        }
    }

    @Test
    void anEndlessValue_isAProtocolError_atItsOwnCap() {
        try (MetadataEmulator imds = MetadataEmulator.builder().start()) {
            imds.faults().forPath("/latest/meta-data/instance-id").endlessBodyNext(Faults.ALWAYS);
            assertTimeoutPreemptively(GUARD, () -> {
                try (MetadataClient c = MetadataClient.builder().endpoint(imds.endpoint()).build()) {
                    assertThatThrownBy(c::identity).isInstanceOf(MetadataProtocolException.class)
                            .extracting(e -> ((MetadataException) e).reason())
                            .isEqualTo(MetadataException.Reason.ANSWER_TOO_LARGE);
                }
            });
        }
    }

    @Test
    void userDataOfExactlyTheLimit_isRead_oneByteMore_isTooLarge() {
        byte[] limit = new byte[MetadataClient.MAX_USER_DATA_BYTES];
        Arrays.fill(limit, (byte) '#');
        try (MetadataEmulator imds = MetadataEmulator.builder().userData(limit).start();
             MetadataClient c = MetadataClient.builder().endpoint(imds.endpoint()).build()) {
            assertThat(c.userData().orElseThrow()).hasSize(MetadataClient.MAX_USER_DATA_BYTES);
        }
        byte[] over = Arrays.copyOf(limit, limit.length + 1);
        try (MetadataEmulator imds = MetadataEmulator.builder().userData(over).start();
             MetadataClient c = MetadataClient.builder().endpoint(imds.endpoint()).build()) {
            assertThatThrownBy(c::userData).isInstanceOf(UserDataTooLargeException.class);
        }
    }

    /** One byte a second resets every read timeout; the call's deadline (real time here) still ends it. */
    @Test
    void aDribblingAnswer_endsAtTheDeadline() {
        try (MetadataEmulator imds = MetadataEmulator.builder().userData("collector.pl 10.0.0.1").start()) {
            imds.faults().forPath("/latest/user-data").dribbleNext(Faults.ALWAYS, Duration.ofMillis(500));
            long start = System.nanoTime();
            assertTimeoutPreemptively(GUARD, () -> {
                try (MetadataClient c = MetadataClient.builder().endpoint(imds.endpoint()).clock(Clock.systemUTC())
                        .retryPolicy(RetryPolicy.builder().deadline(Duration.ofSeconds(2)).build()).build()) {
                    assertThatThrownBy(c::userData).isInstanceOf(MetadataUnreachableException.class)
                            .hasMessageContaining("no answer from " + imds.endpoint() + "/latest/user-data after 1 "
                                    + "attempt")
                            .hasMessageContaining("SocketTimeoutException: no complete answer within");
                }
            });
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(1900)).isLessThan(Duration.ofSeconds(6));
        }
    }

    @Test
    void aHangingAnswer_endsAtTheDeadlineToo_notOnlyAtTheReadTimeout() {
        try (MetadataEmulator imds = MetadataEmulator.builder().userData("u").start()) {
            imds.faults().forPath("/latest/user-data").hangNext(Faults.ALWAYS);
            long start = System.nanoTime();
            try (MetadataClient c = MetadataClient.builder().endpoint(imds.endpoint()).clock(Clock.systemUTC())
                    .readTimeout(Duration.ofSeconds(20))
                    .retryPolicy(RetryPolicy.builder().deadline(Duration.ofMillis(1500)).build()).build()) {
                assertThatThrownBy(c::userData).isInstanceOf(MetadataUnreachableException.class);
            }
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        }
    }

    /** The deadline's cancel can land between two steps of HttpClient's exec chain: still a timeout, never a crash. */
    @Test
    void aDeadlineThatCutsARequestAnywhere_isUnreachable() throws Exception {
        // A listener that is never accepted from and never answers: the kernel completes each connection, the request
        // goes out, no byte comes back. Held for the whole test, so no other process on the machine can take the port
        // and answer in its place (a closed port could be reused between the probes of a busy build machine).
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 64, java.net.InetAddress.getLoopbackAddress())) {
            for (int i = 0; i < 30; i++) {
                try (MetadataClient c = MetadataClient.builder()
                        .endpoint(java.net.URI.create("http://127.0.0.1:" + silent.getLocalPort()))
                        .clock(Clock.systemUTC()).retryPolicy(RetryPolicy.builder()
                                .deadline(Duration.ofMillis(1 + i * 10)).build()).build()) {
                    assertThatThrownBy(c::userData).isInstanceOf(MetadataUnreachableException.class);
                }
            }
        }
    }

    @Test
    void retryAfter_isHonoured_butNeverPastTheDeadline() {
        FakeTime time = new FakeTime();
        try (MetadataEmulator imds = MetadataEmulator.builder().userData("u").clock(time).start()) {
            imds.faults().forPath("/latest/user-data").failNext(1, 429, Duration.ofSeconds(3));
            try (MetadataClient c = MetadataClient.builder().endpoint(imds.endpoint()).clock(time).sleeper(time::sleep)
                    .build()) {
                assertThat(c.userData()).isPresent();
            }
            assertThat(time.sleeps()).containsExactly(Duration.ofSeconds(3));
            imds.faults().forPath("/latest/user-data").failNext(1, 503, Duration.ofSeconds(30));
            try (MetadataClient c = MetadataClient.builder().endpoint(imds.endpoint()).clock(time).sleeper(time::sleep)
                    .retryPolicy(RetryPolicy.builder().deadline(Duration.ofSeconds(10)).build()).build()) {
                assertThatThrownBy(c::userData).isInstanceOf(MetadataUnreachableException.class)
                        .hasMessageContaining("after 1 attempt over 0.0 s (deadline 10.0 s); last error: HTTP 503");
            }
        }
    }

    @Test
    void azureUserData_base64_isLimitedOnItsDecodedSize() {
        try (MetadataEmulator imds = MetadataEmulator.builder().clouds(Cloud.AZURE)
                .userData(new byte[MetadataClient.MAX_USER_DATA_BYTES]).start();
             MetadataClient c = MetadataClient.builder().endpoint(imds.endpoint()).provider(Provider.AZURE).build()) {
            assertThat(c.userData().orElseThrow()).hasSize(MetadataClient.MAX_USER_DATA_BYTES);
        }
    }
}
