package dev.whatami.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** The agent boots on each provider's fake (auto-detected), and gives up off-cloud within its bound. */
class AgentProvidersTest {
    @TempDir
    Path dir;
    private HttpServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    /** One loopback server that answers as {@code provider} and serves the script. */
    private String fake(String provider) throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        String srv = "127.0.0.1:" + server.getAddress().getPort();
        String userData = "role.sh " + srv;
        Map<String, String> routes = switch (provider) {
            case "gce" -> Map.of("/computeMetadata/v1/instance/id", "gce-1",
                    "/computeMetadata/v1/instance/attributes/user-data", userData,
                    "/computeMetadata/v1/instance/zone", "projects/1/zones/us-central1-a");
            case "azure" -> Map.of("/metadata/instance/compute/vmId", "azure-1",
                    "/metadata/instance/compute/userData", b64(userData));
            case "oci" -> Map.of("/opc/v2/instance/id", "oci-1", "/opc/v2/instance/metadata/user_data", b64(userData));
            case "digitalocean" -> Map.of("/metadata/v1/id", "do-1", "/metadata/v1/user-data", userData);
            case "hetzner" -> Map.of("/hetzner/v1/metadata/instance-id", "hz-1", "/hetzner/v1/userdata", userData);
            default -> throw new IllegalArgumentException(provider);
        };
        server.createContext("/", ex -> {
            String path = ex.getRequestURI().getPath();
            String body = path.equals("/scriptserver/role.sh") ? "echo \"I run on $WHATAMI_PROVIDER\"\n"
                    : routes.get(path);
            if (provider.equals("gce")) {
                ex.getResponseHeaders().add("Metadata-Flavor", "Google");
            }
            byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(body == null ? 404 : 200, b.length == 0 ? -1 : b.length);
            if (b.length > 0) {
                ex.getResponseBody().write(b);
            }
            ex.close();
        });
        server.start();
        return "http://" + srv;
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private int run(StringWriter out, String... extra) {
        CommandLine cl = WhatamiAgent.commandLine(Map.of("PATH", System.getenv("PATH")));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(new StringWriter(), true));
        String[] base = {"run", "--state-dir", dir.resolve("state").toString(), "--log-dir",
            dir.resolve("log").toString(), "--sysfs-root", dir.resolve("sysfs").toString()};
        return cl.execute(java.util.stream.Stream.concat(java.util.Arrays.stream(base),
                java.util.Arrays.stream(extra)).toArray(String[]::new));
    }

    @ParameterizedTest
    @CsvSource({"gce,gce-1", "azure,azure-1", "oci,oci-1", "digitalocean,do-1", "hetzner,hz-1"})
    void bootsOnEachProvider_detectedByProbing(String provider, String id) throws Exception {
        String endpoint = fake(provider);
        StringWriter out = new StringWriter();
        assertThat(run(out, "--metadata-endpoint", endpoint)).isZero();
        assertThat(out.toString()).contains("[role.sh] I run on " + provider);
        Map<String, Object> status = StatusJson.read(dir.resolve("state/status.json"));
        assertThat(status).containsEntry("provider", provider).containsEntry("instanceId", id);
    }

    @Test
    void offCloud_exits3_withinTheDetectionBound_namingWhatItTried() throws Exception {
        Path dmi = Files.createDirectories(dir.resolve("sysfs/sys/class/dmi/id"));
        Files.writeString(dmi.resolve("sys_vendor"), "LENOVO\n");
        int port = dev.whatami.testsupport.Ports.free();
        long start = System.nanoTime();
        int code = run(new StringWriter(), "--provider", "auto", "--metadata-endpoint", "http://127.0.0.1:" + port,
                "--detection-timeout", "1s");
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertThat(code).isEqualTo(3);
        assertThat(millis).isLessThan(10_000);
        String message = String.valueOf(StatusJson.read(dir.resolve("state/status.json")).get("message"));
        assertThat(message).startsWith("no metadata service found within 1 s")
                .contains("sys_vendor=\"LENOVO\"").contains("ec2 at http://127.0.0.1:" + port)
                .contains("gce at").contains("azure at").contains("oci at").contains("digitalocean at")
                .contains("hetzner at");
        assertThat(StatusJson.read(dir.resolve("state/status.json"))).containsEntry("state", "unreachable");
    }
}
