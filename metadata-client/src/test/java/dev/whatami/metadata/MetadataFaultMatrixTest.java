package dev.whatami.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.emulator.Faults;
import dev.whatami.emulator.MetadataEmulator;
import dev.whatami.testsupport.FakeTime;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The metadata phases of a boot (token, identity, user-data) against each fault, once, at the phase's own path:
 * what the client does and how many requests the phase took. The table is {@code docs/fault-matrix-metadata.md}; this
 * test fails when the behaviour and the document differ. After a deliberate change, run it with
 * {@code -Dwhatami.writeFaultMatrix=true} to rewrite the document, and review the diff.
 *
 * <p>Default client settings (token timeout 1 s, read timeout 2 s), except a 3 s deadline without jitter on a fake
 * clock (backoff waits cost no real time) so that a service that never answers is given up on quickly.
 */
class MetadataFaultMatrixTest {
    private static final Path DOC = Path.of("..", "docs", "fault-matrix-metadata.md");
    private static final String TOKEN_PATH = "/latest/api/token";

    private enum Phase {
        TOKEN("token (`PUT /latest/api/token`)", TOKEN_PATH, false, Duration.ofSeconds(1)),
        TOKEN_V1_DISABLED("token, IMDSv1 disabled", TOKEN_PATH, true, Duration.ofSeconds(2)),
        IDENTITY("identity (`GET …/meta-data/instance-id`)", "/latest/meta-data/instance-id", false,
                Duration.ofSeconds(2)),
        USER_DATA("user-data (`GET /latest/user-data`)", "/latest/user-data", false, Duration.ofSeconds(2));

        final String title;
        final String path;
        final boolean v1Disabled;
        final Duration timeout;

        Phase(String title, String path, boolean v1Disabled, Duration timeout) {
            this.title = title;
            this.path = path;
            this.v1Disabled = v1Disabled;
            this.timeout = timeout;
        }
    }

    private record Fault(String title, Function<Phase, java.util.function.Consumer<Faults>> inject) {
    }

    private static final Duration MARGIN = Duration.ofMillis(500);
    private static final List<Fault> FAULTS = List.of(
            new Fault("refused connection", p -> null),
            new Fault("timeout (no answer)", p -> f -> f.hangNext(1)),
            new Fault("reset mid-body", p -> f -> f.dropNext(1)),
            new Fault("503", p -> f -> f.failNext(1, 503)),
            new Fault("429, Retry-After: 1", p -> f -> f.failNext(1, 429, Duration.ofSeconds(1))),
            // "under" at a quarter of the timeout: a busy machine adds its own delay, and must not turn the cell over
            new Fault("slow, ¼ of the timeout", p -> f -> f.slowNext(1, p.timeout.dividedBy(4))),
            new Fault("slow, timeout + 0.5 s", p -> f -> f.slowNext(1, p.timeout.plus(MARGIN))));

    @Test
    void everyPhaseAgainstEveryFault_matchesTheDocument() throws Exception {
        Map<Phase, List<String>> rows = new LinkedHashMap<>();
        for (Phase phase : Phase.values()) {
            List<String> cells = new ArrayList<>();
            for (Fault fault : FAULTS) {
                cells.add(run(phase, fault));
            }
            rows.put(phase, cells);
        }
        String table = render(rows);
        if (Boolean.getBoolean("whatami.writeFaultMatrix")) {
            Files.writeString(DOC, table);
        }
        assertThat(table).as("docs/fault-matrix-metadata.md is out of date; rerun with -Dwhatami.writeFaultMatrix=true")
                .isEqualTo(Files.readString(DOC, StandardCharsets.UTF_8));
    }

    private static String run(Phase phase, Fault fault) throws IOException {
        FakeTime time = new FakeTime();
        java.util.function.Consumer<Faults> inject = fault.inject.apply(phase);
        if (inject == null) {
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            return call(phase, URI.create("http://127.0.0.1:" + port), time, null);
        }
        try (MetadataEmulator imds = MetadataEmulator.builder().userData("collector.pl 10.0.0.1").instanceId("i-1")
                .imdsV2Required(phase.v1Disabled).clock(time).start()) {
            inject.accept(imds.faults().forPath(phase.path));
            return call(phase, imds.endpoint(), time, imds);
        }
    }

    private static String call(Phase phase, URI endpoint, FakeTime time, MetadataEmulator imds) {
        String outcome;
        int attempts = -1;
        try (MetadataClient c = MetadataClient.builder().endpoint(endpoint).clock(time).sleeper(time::sleep)
                .imdsV2Required(phase.v1Disabled)
                .retryPolicy(RetryPolicy.builder().jitter(false).deadline(Duration.ofSeconds(3)).build()).build()) {
            boolean read = phase == Phase.IDENTITY ? c.identity().instanceId().equals("i-1")
                    : new String(c.userData().orElseThrow(), StandardCharsets.UTF_8).equals("collector.pl 10.0.0.1");
            assertThat(read).isTrue();
            boolean v1 = imds.requests().stream().anyMatch(r -> r.method().equals("GET")
                    && r.header("X-aws-ec2-metadata-token").isEmpty());
            outcome = v1 ? "read with IMDSv1" : "read";
        } catch (MetadataException e) {
            outcome = e.getClass().getSimpleName() + " " + e.reason();
            attempts = e.attempts();
        }
        long requests = imds == null ? attempts : imds.requestCount(phase.path.equals(TOKEN_PATH) ? "PUT" : "GET",
                phase.path);
        Duration waited = time.sleeps().stream().reduce(Duration.ZERO, Duration::plus);
        return outcome + ", " + requests + (requests == 1 ? " request" : " requests")
                + (waited.compareTo(Duration.ofSeconds(1)) >= 0 ? String.format(java.util.Locale.ROOT,
                ", waited %.1f s", waited.toMillis() / 1000.0) : "");
    }

    private static String render(Map<Phase, List<String>> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Fault matrix: metadata phases\n\n");
        sb.append("Generated by `metadata-client`'s `MetadataFaultMatrixTest`, which fails when the client's behaviour "
                + "and this table differ.\nEach fault hits the phase's own path once (refused connection: nothing "
                + "listens at all), against the\nmetadata emulator, with the client's default settings (token timeout "
                + "1 s, read timeout 2 s, IMDSv1\nallowed unless the row says otherwise) and a 3 s deadline. \"read\": "
                + "the call returned the value; \"read with\nIMDSv1\": it did, without a session token, for that call "
                + "only. Requests are those the phase's path saw\n(for a refused connection, the attempts made). "
                + "`MetadataUnreachableException UNREACHABLE` is the agent's\nexit 3.\n\n");
        sb.append("| phase |");
        FAULTS.forEach(f -> sb.append(' ').append(f.title).append(" |"));
        sb.append("\n|---|");
        FAULTS.forEach(f -> sb.append("---|"));
        sb.append('\n');
        rows.forEach((phase, cells) -> {
            sb.append("| ").append(phase.title).append(" |");
            cells.forEach(c -> sb.append(' ').append(c).append(" |"));
            sb.append('\n');
        });
        return sb.toString();
    }
}
