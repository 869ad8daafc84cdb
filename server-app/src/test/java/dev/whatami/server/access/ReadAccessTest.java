package dev.whatami.server.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** Without a read token, the status pages and metrics answer clients on loopback only. */
class ReadAccessTest {
    @Test
    void loopbackClients_areTheOnlyLocalOnes() {
        assertThat(ReadAccess.fromLoopback(new InetSocketAddress("127.0.0.1", 4000))).isTrue();
        assertThat(ReadAccess.fromLoopback(new InetSocketAddress("::1", 4000))).isTrue();
        assertThat(ReadAccess.fromLoopback(new InetSocketAddress("127.9.8.7", 4000))).isTrue();
        assertThat(ReadAccess.fromLoopback(InetSocketAddress.createUnresolved("example.org", 4000))).isFalse();
        // addresses built from literals: nothing is sent to them
        assertThat(ReadAccess.fromLoopback(new InetSocketAddress("10.1.2.3", 4000))).isFalse();
        assertThat(ReadAccess.fromLoopback(new InetSocketAddress("169.254.169.254", 80))).isFalse();
        assertThat(ReadAccess.fromLoopback(new InetSocketAddress("::ffff:10.0.0.1", 80))).isFalse();
    }
}
