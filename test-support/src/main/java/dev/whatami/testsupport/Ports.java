package dev.whatami.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
    /** The ports the kernel's pick gave, when there is no range below the ephemeral one. */
    private static final Set<Integer> GIVEN = ConcurrentHashMap.newKeySet();

    private Ports() {
    }

    /**
     * A loopback port free now, below the ephemeral range (port 0's where that range cannot be read); in one JVM, not
     * one of the last few thousand it gave.
     */
    public static int free() {
        return free(LOW);
    }

    /** {@link #free()} for a machine whose ephemeral range starts at {@code low} (0: not known). */
    static int free(int low) {
        for (int attempt = 0; low > 11_000 && attempt < 100; attempt++) {
            int port = 10_000 + Math.floorMod(NEXT.getAndIncrement(), low - 10_000);
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
                return port;
            } catch (IOException e) {
                // taken: another
            }
        }
        // no range below the ephemeral one (unknown, or too low): the kernel's pick, never one this JVM gave before,
        // as the kernel may hand a closed port out again at once
        for (int attempt = 0; attempt < 1_000; attempt++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                if (GIVEN.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("no loopback port left that this JVM has not given already");
    }

    /** The low end of Linux's ephemeral port range; 0 where it cannot be read (another OS: port 0 is used then). */
    static int ephemeralLow() {
        try {
            // by lines: Files.readString gives only the first byte of this file (procfs reports its size as 0)
            List<String> range = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range"));
            return Integer.parseInt(range.get(0).strip().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
