package dev.whatami.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.images.builder.Transferable;

/**
 * Images and containers with systemd as PID 1: a Debian made locally by debootstrap
 * ({@code docker/build-systemd-image.sh}, never pulled) with the packages {@code ./mvnw package} built installed by
 * {@code dpkg -i} while the image is built — as an image builder bakes them. Started the way systemd runs in a
 * container here (Docker 20.10, cgroup v1): {@code /sbin/init} with {@code /run} on tmpfs and the host's cgroup
 * tree read-only; stopped with SIGRTMIN+3 (systemd's "halt"), so a restart is a clean reboot.
 */
final class SystemdImages {
    static final String BASE = "whatami-it-systemd:bookworm-1";
    static final Path AGENT_DEB = Path.of(System.getProperty("whatami.agent.deb", "../agent-app/target/whatami-agent.deb"));
    static final Path SERVER_DEB = Path.of(System.getProperty("whatami.server.deb",
            "../server-app/target/whatami-server.deb"));

    private static ImageFromDockerfile agentImage;
    private static ImageFromDockerfile serverImage;

    private SystemdImages() {
    }

    static void ensureBase() throws Exception {
        if (!DockerClientFactory.instance().client().listImagesCmd().withImageNameFilter(BASE).exec().isEmpty()) {
            return;
        }
        String script = System.getProperty("whatami.systemd.script", "docker/build-systemd-image.sh");
        Process p = new ProcessBuilder("sh", "-c", script + " " + BASE).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(15, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(script + ": " + out).isZero();
    }

    /**
     * The instance image: the agent's .deb installed by dpkg (postinst enables the units and builds the AppCDS
     * archive) and the .deb kept in /root for the upgrade scenario. Built without a network.
     */
    static synchronized ImageFromDockerfile agent() {
        assertThat(AGENT_DEB).as("build the packages first (./mvnw -B verify builds them before this test)").exists();
        if (agentImage == null) {
            agentImage = new ImageFromDockerfile("whatami-it-systemd-agent:" + digest(AGENT_DEB), false)
                    .withFileFromPath("whatami-agent.deb", AGENT_DEB)
                    .withFileFromString("Dockerfile", "FROM " + BASE + "\n"
                            + "COPY whatami-agent.deb /root/whatami-agent.deb\n"
                            + "RUN dpkg -i /root/whatami-agent.deb\n")
                    .withBuildImageCmdModifier(cmd -> cmd.withNetworkMode("none"));
        }
        return agentImage;
    }

    /** The server's .deb installed by dpkg (postinst enables the unit; nothing runs while the image is built). */
    static synchronized ImageFromDockerfile server() {
        assertThat(SERVER_DEB).as("build the packages first (./mvnw -B verify builds them before this test)").exists();
        if (serverImage == null) {
            serverImage = new ImageFromDockerfile("whatami-it-systemd-server:" + digest(SERVER_DEB), false)
                    .withFileFromPath("whatami-server.deb", SERVER_DEB)
                    .withFileFromString("Dockerfile", "FROM " + BASE + "\n"
                            + "COPY whatami-server.deb /tmp/whatami-server.deb\n"
                            + "RUN dpkg -i /tmp/whatami-server.deb && rm /tmp/whatami-server.deb\n")
                    .withBuildImageCmdModifier(cmd -> cmd.withNetworkMode("none"));
        }
        return serverImage;
    }

    /**
     * The start of the package's SHA-256: the tag of the image it is installed in. Other worktrees on the same
     * engine build these images too; a tag per package never runs another build's package, and the same package
     * (builds are reproducible) reuses the engine's cached image.
     */
    private static String digest(Path deb) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(java.nio.file.Files.readAllBytes(deb))).substring(0, 16);
        } catch (java.io.IOException | java.security.NoSuchAlgorithmException e) {
            throw new AssertionError("cannot read " + deb + ": " + e);
        }
    }

    /** A machine booting {@code image} with systemd as PID 1, on {@code network}; files may be copied in first. */
    static GenericContainer<?> boot(ImageFromDockerfile image, Network network, Map<String, String> files) {
        GenericContainer<?> c = new GenericContainer<>(image).withNetwork(network)
                .withTmpFs(Map.of("/run", "rw", "/run/lock", "rw"))
                .withFileSystemBind("/sys/fs/cgroup", "/sys/fs/cgroup", BindMode.READ_ONLY)
                .withCreateContainerCmdModifier(cmd -> cmd.withStopSignal("SIGRTMIN+3"))
                .withCommand("/sbin/init");
        files.forEach((path, content) -> c.withCopyToContainer(Transferable.of(content, 0644), path));
        return c;
    }

    /** The agent's configuration for an instance whose metadata service is the n-th emulator of "files". */
    static String agentProperties(int emulator) {
        return "provider=ec2\nmetadata-endpoint=http://files:" + (8080 + emulator) + "\ndeadline=90s\n"
                + "report-url=http://files:8080/reports\n";
    }

    /** Runs {@code sh -c command} in the container; fails the test unless it exits 0. Returns its stdout. */
    static String sh(GenericContainer<?> c, String command) throws Exception {
        Container.ExecResult r = c.execInContainer("sh", "-c", command);
        assertThat(r.getExitCode()).as(command + "\nstdout: " + r.getStdout() + "\nstderr: " + r.getStderr()).isZero();
        return r.getStdout();
    }

    /** Polls {@code sh -c condition} every 250 ms until it exits 0, at most {@code limit}. */
    static void await(GenericContainer<?> c, String condition, Duration limit) throws Exception {
        sh(c, "n=0; until " + condition + "; do n=$((n+1)); [ $n -lt " + limit.toMillis() / 250
                + " ] || { echo 'still not: " + condition.replace("'", "") + "' >&2; exit 1; }; sleep 0.25; done");
    }

    /**
     * The manager's state once no job is queued any more (running, degraded, ...), at most a minute after the
     * container started: until systemd answers on its bus, systemctl says nothing.
     */
    static String booted(GenericContainer<?> c) throws Exception {
        Container.ExecResult r = c.execInContainer("sh", "-c", "for i in $(seq 1 240); do "
                + "s=$(timeout 60 systemctl is-system-running --wait 2>/dev/null); case \"$s\" in "
                + "''|initializing|starting) sleep 0.25;; *) break;; esac; done; echo \"$s\"");
        return r.getStdout().strip();
    }

    /** The journal of the unit's latest run only (a container's boots share the host's boot id). */
    static String journalOfLastRun(GenericContainer<?> c, String unit) throws Exception {
        return sh(c, "journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID=$(systemctl show -p InvocationID --value "
                + unit + ")");
    }

    /** Reboots the machine: systemd halts on SIGRTMIN+3, the container starts again (same disk, new boot). */
    static void reboot(GenericContainer<?> c) {
        c.getDockerClient().restartContainerCmd(c.getContainerId()).withTimeout(30).exec();
    }
}
