package dev.whatami.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;

/**
 * The one place that builds the container images: a Debian base made locally (debootstrap, never pulled), an
 * instance image with the agent installed the way a user installs it (rc.local), and a server image.
 */
final class Instances {
    static final String BASE = "whatami-it-base:bookworm-1";
    /** Images built from this checkout's jars are named after it, so two checkouts building at once never share one. */
    static final String CHECKOUT = Integer.toHexString(java.nio.file.Path.of("").toAbsolutePath().toString().hashCode());
    /** The agent's configuration baked into the instance image: the file server is "files" on the test network. */
    static final String AGENT_PROPERTIES = "provider=ec2\nmetadata-endpoint=http://files:8080\ndeadline=90s\n"
            + "report-url=http://files:8080/reports\n";

    private static ImageFromDockerfile instanceImage;
    private static ImageFromDockerfile signedInstanceImage;
    private static ImageFromDockerfile serverImage;

    private Instances() {
    }

    /** Docker is here and answering; else skip loudly, or fail when WHATAMI_REQUIRE_DOCKER=1 (CI). */
    static boolean dockerAvailable() {
        boolean ok;
        try {
            ok = DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            ok = false;
        }
        if (!ok) {
            String line = "SKIPPED the container tests: no Docker engine answers on /var/run/docker.sock (start one, "
                    + "see docs/testing.md, 'Container tests')";
            System.err.println(line);
            assertThat(System.getenv("WHATAMI_REQUIRE_DOCKER")).as(line + ", and WHATAMI_REQUIRE_DOCKER=1")
                    .isNotEqualTo("1");
        }
        return ok;
    }

    /** Removes what a killed run left (without Ryuk nothing else does). */
    static void ensureBase() throws Exception {
        if (!System.getProperty("whatami.it.baseImage", "").isBlank()) {
            return; // a registry image, pulled by the engine when the images are built
        }
        if (!DockerClientFactory.instance().client().listImagesCmd().withImageNameFilter(BASE).exec().isEmpty()) {
            return;
        }
        String script = System.getProperty("whatami.base.script", "docker/build-base-image.sh");
        sh(script + " " + BASE);
    }

    private static void sh(String command) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(15, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(command + ": " + out).isZero();
    }

    /**
     * The image instances and servers start from: the local debootstrap image, or — where a registry is reachable
     * (a laptop) — {@code -Dwhatami.it.baseImage=debian:bookworm}, with the JRE and perl installed on top.
     */
    static String from() {
        String chosen = System.getProperty("whatami.it.baseImage", "");
        if (chosen.isBlank()) {
            return "FROM " + BASE + "\n";
        }
        return "FROM " + chosen + "\nRUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
                + "--no-install-recommends openjdk-17-jre-headless perl ca-certificates procps iproute2 "
                + "&& rm -rf /var/lib/apt/lists/*\n";
    }

    private static String instanceDockerfile(boolean withKey) {
        return from()
                + "COPY whatami-agent.jar /opt/whatami/whatami-agent.jar\n"
                + "COPY agent.properties /etc/whatami/agent.properties\n"
                + (withKey ? "COPY owner.pub /etc/whatami/trusted-keys/owner.pub\n" : "")
                + "RUN java -jar /opt/whatami/whatami-agent.jar install --rc-local --jar /opt/whatami/whatami-agent.jar "
                + "--java /usr/bin/java --no-cds\n"
                // every start of the container is a boot: a boot id of its own, then rc.local as init runs it
                + "CMD [\"/bin/sh\", \"-c\", \"WHATAMI_BOOT_ID=$(cat /proc/sys/kernel/random/uuid) /etc/rc.local; "
                + "exec sleep infinity\"]\n";
    }

    static synchronized ImageFromDockerfile instance() {
        if (instanceImage == null) {
            instanceImage = new ImageFromDockerfile("whatami-it-instance-" + CHECKOUT, false)
                    .withFileFromPath("whatami-agent.jar", Jars.AGENT)
                    .withFileFromString("agent.properties", AGENT_PROPERTIES)
                    .withFileFromString("Dockerfile", instanceDockerfile(false));
        }
        return instanceImage;
    }

    /** The same image with the owner's public key baked in: only signed scripts run on it. */
    static synchronized ImageFromDockerfile signedInstance(Path publicKey) {
        if (signedInstanceImage == null) {
            signedInstanceImage = new ImageFromDockerfile("whatami-it-instance-signed-" + CHECKOUT, false)
                    .withFileFromPath("whatami-agent.jar", Jars.AGENT)
                    .withFileFromString("agent.properties", AGENT_PROPERTIES)
                    .withFileFromPath("owner.pub", publicKey)
                    .withFileFromString("Dockerfile", instanceDockerfile(true));
        }
        return signedInstanceImage;
    }

    static synchronized ImageFromDockerfile server() {
        if (serverImage == null) {
            serverImage = new ImageFromDockerfile("whatami-it-server-" + CHECKOUT, false)
                    .withFileFromPath("whatami-server.jar", Jars.SERVER)
                    .withFileFromString("Dockerfile", from()
                            + "COPY whatami-server.jar /opt/whatami/whatami-server.jar\n");
        }
        return serverImage;
    }

    /** An internal network: nothing on it reaches outside. */
    static Network network() {
        return Network.builder().createNetworkCmdModifier(cmd -> cmd.withInternal(true)).build();
    }

    /** An internal network with a subnet of our choosing, so a container can be given another address. */
    static Network network(String subnet) {
        return Network.builder().createNetworkCmdModifier(cmd -> cmd.withInternal(true)
                .withIpam(new com.github.dockerjava.api.model.Network.Ipam().withConfig(
                        new com.github.dockerjava.api.model.Network.Ipam.Config().withSubnet(subnet)))).build();
    }

    /**
     * The file server "files" on port 8080, serving {@code www} (copied in), with reports; plus one metadata
     * emulator per user-data, on ports 8080 (the first), 8081, ...
     */
    static GenericContainer<?> files(Network network, Path www, List<String> userData, String... extraFlags) {
        return files(network, www, "", userData, extraFlags);
    }

    /** As above, running {@code prelude} (a shell line) first, e.g. to shape its traffic with tc. */
    static GenericContainer<?> files(Network network, Path www, String prelude, List<String> userData,
                                     String... extraFlags) {
        StringBuilder script = new StringBuilder(prelude);
        for (int i = 0; i < userData.size(); i++) {
            script.append("java -jar /opt/whatami/whatami-server.jar --root /srv/www --bind 0.0.0.0 --port ")
                    .append(8080 + i).append(" --instance-id i-").append(i == 0 ? "files" : "imds" + i)
                    .append(" --metadata-user-data-text \"$").append(i + 1).append('"')
                    .append(i == 0 ? " --data-dir /srv/data --access-log /srv/access.log " + String.join(" ", extraFlags)
                            : "").append(" & ");
        }
        script.append("wait");
        List<String> command = new ArrayList<>(List.of("sh", "-c", script.toString(), "sh"));
        command.addAll(userData);
        return new GenericContainer<>(server()).withNetwork(network).withNetworkAliases("files")
                .withFileSystemBind(www.toString(), "/srv/www", org.testcontainers.containers.BindMode.READ_ONLY)
                .withCommand(command.toArray(String[]::new))
                .waitingFor(Wait.forLogMessage(".*whatami-server listening on.*", userData.size())
                        .withStartupTimeout(java.time.Duration.ofMinutes(3))); // a JVM start on a loaded 2-core machine
    }

    /** An instance booting from the generic image; its metadata endpoint is the n-th emulator. */
    static GenericContainer<?> instance(ImageFromDockerfile image, Network network, int emulator) {
        return new GenericContainer<>(image).withNetwork(network)
                .withEnv("WHATAMI_METADATA_ENDPOINT", "http://files:" + (8080 + emulator));
    }

    /** Waits until the instance's agent has finished (like cloud-init status --wait); returns its exit code. */
    static int awaitAgent(GenericContainer<?> instance) throws IOException, InterruptedException {
        int code = 0;
        // on a loaded machine the observing `docker exec` has been seen to end with 137 (its process killed; the
        // agent and status.json unaffected): ask again, at most twice, rather than fail on the observer
        for (int i = 0; i < 3; i++) {
            code = instance.execInContainer("java", "-jar", "/opt/whatami/whatami-agent.jar", "status", "--wait",
                    "--timeout", "180").getExitCode();
            if (code < 128) {
                return code;
            }
            System.err.println("awaitAgent: the status --wait process ended with " + code + "; asking again");
        }
        return code;
    }

    static String read(GenericContainer<?> c, String path) throws IOException, InterruptedException {
        return c.execInContainer("cat", path).getStdout();
    }
}
