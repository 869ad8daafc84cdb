package dev.whatami.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The listen backlog is large enough for 1,000 clients connecting at once (the JDK's default of 50 was
 * not: the SYNs dropped were retried a second later, or timed out). Read back from the kernel with {@code ss}: for
 * a listening socket its Send-Q column is the backlog.
 */
class AcceptQueueTest {
    @TempDir
    Path dir;

    @Test
    void theListenBacklog_holdsAThousandConnectsAtOnce() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/ss")) || Files.isExecutable(Path.of("/bin/ss")),
                "ss (iproute2) is needed");
        int somaxconn;
        try (var in = Files.newBufferedReader(Path.of("/proc/sys/net/core/somaxconn"))) {
            somaxconn = Integer.parseInt(in.readLine().strip()); // (Files.readString trusts the size /proc reports)
        }
        try (ScriptServer server = ScriptServer.builder(Files.createDirectories(dir.resolve("www"))).bind("127.0.0.1")
                .port(0).build().start()) {
            int port = server.address().getPort();
            Process p = new ProcessBuilder("ss", "-Hltn", "sport = :" + port).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
            // State Recv-Q Send-Q Local:Port Peer:Port
            String[] columns = out.split("\\s+");
            assertThat(columns).as(out).hasSizeGreaterThanOrEqualTo(4);
            assertThat(Integer.parseInt(columns[2])).as(out)
                    .isEqualTo(Math.min(ScriptServer.ACCEPT_QUEUE, somaxconn))
                    .isGreaterThanOrEqualTo(Math.min(1000, somaxconn));
        }
    }
}
