package dev.whatami.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Loopback ports for a server a test starts later (or for an address where nothing listens). Not port 0's: binding
 * port 0 gives a port from the kernel's ephemeral range, and between closing that socket and the server's bind any
 * outgoing connection on the machine can be handed the same port — which failed a test with "Address already in use"
 * (BootFaultMatrixTest, CI's JDK 25 pass). A port below that range is only ever taken by a listener.
 */
public final class Ports {
    /** The low end of the kernel's ephemeral range, read once. */
    private static final int LOW = ephemeralLow();
    /**
     * The next port to try, from a random start per JVM: two reservations made before either server binds (a test
     * with two servers) never get the same port, as two random picks could.
     */
    private static final AtomicInteger NEXT = new AtomicInteger(ThreadLocalRandom.current().nextInt(1 << 20));

    private Ports() {
    }

    /**
     * A loopback port free now, below the ephemeral range (port 0's where that range cannot be read); in one JVM, not
     * one of the last few thousand it gave.
     */
    public static int free() {
        for (int attempt = 0; LOW > 11_000 && attempt < 100; attempt++) {
            int port = 10_000 + Math.floorMod(NEXT.getAndIncrement(), LOW - 10_000);
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
                return port;
            } catch (IOException e) {
                // taken: another
            }
        }
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The low end of Linux's ephemeral port range; 0 where it cannot be read (another OS: port 0 is used then). */
    static int ephemeralLow() {
        try {
            String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range"));
            return Integer.parseInt(range.strip().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
