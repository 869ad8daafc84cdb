package dev.whatami.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The ports tests reserve for a server they start later: free, and outside the range outgoing connections use. */
class PortsTest {
    @Test
    void aFreePort_isBelowTheEphemeralRange_andCanBeListenedOn() throws Exception {
        int low = Ports.ephemeralLow();
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            int port = Ports.free();
            if (low > 11_000) { // Linux, as CI: the range is known
                assertThat(port).isBetween(10_000, low - 1);
            }
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
                assertThat(s.getLocalPort()).isEqualTo(port);
            }
            seen.add(port);
        }
        assertThat(seen).as("two reservations before either bind never share a port").hasSize(20);
    }

    /** Read whole: reading it as one string once gave "3" of "32768 60999", and every port came from the kernel. */
    @Test
    void theEphemeralRange_isReadWhole() throws Exception {
        Path file = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
        if (Files.isReadable(file)) {
            String text;
            try (InputStream in = Files.newInputStream(file)) {
                text = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            }
            assertThat(Ports.ephemeralLow()).isEqualTo(Integer.parseInt(text.strip().split("\\s+")[0]));
        } else {
            assertThat(Ports.ephemeralLow()).isZero();
        }
    }

    /** A machine whose ephemeral range is unknown or starts too low: the kernel's pick, still never the same twice. */
    @Test
    void withNoRangeBelowTheEphemeralOne_portsAreStillDistinct() throws Exception {
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            int port = Ports.free(1024);
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
            }
            assertThat(seen.add(port)).as("port %d given twice", port).isTrue();
        }
    }

    @Test
    void aPortTaken_isNotGiven() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), Ports.free()), 1);
            for (int i = 0; i < 200; i++) {
                assertThat(Ports.free()).isNotEqualTo(taken.getLocalPort());
            }
        }
    }
}
