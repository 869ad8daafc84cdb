package dev.whatami.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.whatami.server.access.ReadAccess;
import org.junit.jupiter.api.Test;

/** The routes the read token guards: the status pages and the metrics, not reports, scripts or health. */
class ReadRoutesTest {
    @Test
    void theStatusPagesAndMetrics_areGuarded_nothingElse() {
        assertThat(ReadAccess.guards(ServerMetrics.route("/status"))).isTrue();
        assertThat(ReadAccess.guards(ServerMetrics.route("/status.json"))).isTrue();
        assertThat(ReadAccess.guards(ServerMetrics.route("/metrics"))).isTrue();
        assertThat(ReadAccess.guards(ServerMetrics.route("/reports"))).isFalse();
        assertThat(ReadAccess.guards(ServerMetrics.route("/scriptserver/a.sh"))).isFalse();
        assertThat(ReadAccess.guards(ServerMetrics.route("/healthz"))).isFalse();
    }
}
