package dev.whatami.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

class MetadataEmulatorExtensionTest {
    @Nested
    class PerTest {
        private static final Set<Integer> PORTS = new HashSet<>();

        @RegisterExtension
        final MetadataEmulatorExtension imds = MetadataEmulatorExtension.with(b -> b.userData("per test"));

        @Test
        void first(MetadataEmulator injected) throws Exception {
            assertThat(injected).isSameAs(imds.emulator());
            assertThat(Http.get(injected.endpoint(), "/latest/user-data").body()).isEqualTo("per test");
            PORTS.add(injected.port());
        }

        @Test
        void second(MetadataEmulator injected) {
            PORTS.add(injected.port());
        }

        @AfterAll
        static void eachTestHadItsOwn() {
            assertThat(PORTS).hasSize(2);
        }
    }

    @Nested
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    class PerClass {
        @RegisterExtension
        static final MetadataEmulatorExtension IMDS = MetadataEmulatorExtension.with(b -> b.imdsV2Required(true));
        private static int port;

        @Test
        @Order(1)
        void first(MetadataEmulator imds) throws Exception {
            port = imds.port();
            imds.faults().failNext(Faults.ALWAYS, 500);
            assertThat(Http.get(imds.endpoint(), "/latest/user-data").statusCode()).isEqualTo(500);
        }

        @Test
        @Order(2)
        void second_sameEmulator_faultsAndRequestsReset(MetadataEmulator imds) throws Exception {
            assertThat(imds.port()).isEqualTo(port);
            assertThat(imds.requests()).isEmpty();
            assertThat(Http.get(imds.endpoint(), "/latest/user-data").statusCode()).isEqualTo(401);
        }
    }

    @Nested
    @ExtendWith(MetadataEmulatorExtension.class)
    class Declarative {
        @Test
        void defaults(MetadataEmulator imds) throws Exception {
            assertThat(imds.service().clouds()).containsExactly(Cloud.EC2);
            assertThat(Http.get(imds.endpoint(), "/latest/meta-data/instance-id").body())
                    .isEqualTo("i-0123456789abcdef0");
        }
    }
}
