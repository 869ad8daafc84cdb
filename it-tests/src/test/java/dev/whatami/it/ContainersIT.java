package dev.whatami.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;

/**
 * Real instances in containers: one generic image (Debian, a JRE, perl, the agent installed through rc.local)
 * becomes what each container's user-data says, against a file server and metadata emulators in containers on an
 * internal Docker network the test creates. Nothing leaves that network; no image is ever pulled.
 */
class ContainersIT {
    @TempDir
    static Path www;

    @BeforeAll
    static void images() throws Exception {
        assumeTrue(Instances.dockerAvailable(), "no Docker engine");
        Instances.ensureBase();
        Files.writeString(www.resolve("collector.pl"), """
                #!/usr/bin/perl
                open(my $f, '>', '/var/tmp/role') or die; print $f "collector\\n"; close $f;
                print "collector ready on $ENV{WHATAMI_INSTANCE_ID}\\n";
                """);
        Files.writeString(www.resolve("processor.pl"), """
                #!/usr/bin/perl
                open(my $f, '>', '/var/tmp/role') or die; print $f "processor\\n"; close $f;
                print "processor ready on $ENV{WHATAMI_INSTANCE_ID}\\n";
                """);
        Files.writeString(www.resolve("count-instance.sh"), "echo run >> /var/tmp/per-instance-runs\n");
        Files.writeString(www.resolve("count-boot.sh"), "echo run >> /var/tmp/per-boot-runs\n");
        www.toFile().setReadable(true, false);
        www.toFile().setExecutable(true, false);
    }

    /** The server's /status.json, read inside its container with perl's core HTTP client. */
    private static String serverStatus(GenericContainer<?> files) throws Exception {
        return files.execInContainer("perl", "-MHTTP::Tiny", "-e",
                "print HTTP::Tiny->new->get('http://127.0.0.1:8080/status.json')->{content}").getStdout();
    }

    /**
     * The server's /status.json once {@code arrived} holds, at most 30 s: the agent POSTs its last report after it
     * has written its last status.json (what status --wait waits for), so the report may land a moment later.
     */
    private static String serverStatusOnce(GenericContainer<?> files, java.util.function.Predicate<String> arrived)
            throws Exception {
        String status = serverStatus(files);
        for (int i = 0; i < 120 && !arrived.test(status); i++) {
            Thread.sleep(250); // polling another process's state
            status = serverStatus(files);
        }
        return status;
    }

    private static String role(GenericContainer<?> instance) throws Exception {
        return instance.execInContainer("cat", "/var/tmp/role").getStdout().strip();
    }

    @Test
    void seed_oneImageBecomesACollectorAndAProcessor() throws Exception {
        try (Network net = Instances.network();
             GenericContainer<?> files = Instances.files(net, www, List.of("collector.pl files:8080",
                     "processor.pl files:8080"))) {
            files.start();
            try (GenericContainer<?> a = Instances.instance(Instances.instance(), net, 0);
                 GenericContainer<?> b = Instances.instance(Instances.instance(), net, 1)) {
                a.start();
                b.start();
                assertThat(Instances.awaitAgent(a)).isZero();
                assertThat(Instances.awaitAgent(b)).isZero();
                assertThat(role(a)).isEqualTo("collector");
                assertThat(role(b)).isEqualTo("processor");
                assertThat(Instances.read(a, "/var/log/whatami/collector.pl.out")).contains("collector ready on i-files");
                assertThat(Instances.read(b, "/var/lib/whatami/status.json")).contains("\"state\" : \"done\"");
                String status = serverStatusOnce(files, st -> st.contains("\"instanceId\" : \"i-files\"")
                        && st.contains("\"instanceId\" : \"i-imds1\""));
                assertThat(status).contains("\"instanceId\" : \"i-files\"").contains("\"instanceId\" : \"i-imds1\"");
            }
        }
    }

    @Test
    void pinnedAndSigned_onlyWhatTheOwnerMeantRuns() throws Exception {
        Path keys = Files.createTempDirectory("keys");
        assertThat(Jars.run(Jars.SERVER, "keygen", "--out", keys.toString()).exitCode()).isZero();
        Path signedWww = Files.createTempDirectory("signed-www");
        Files.copy(www.resolve("collector.pl"), signedWww.resolve("collector.pl"));
        Files.copy(www.resolve("processor.pl"), signedWww.resolve("processor.pl"));
        assertThat(Jars.run(Jars.SERVER, "sign", "--key", keys.resolve("whatami-signing.key").toString(),
                signedWww.resolve("collector.pl").toString()).exitCode()).isZero();
        signedWww.toFile().setReadable(true, false);
        signedWww.toFile().setExecutable(true, false);
        try (Network net = Instances.network();
             GenericContainer<?> files = Instances.files(net, signedWww, List.of("collector.pl files:8080",
                     "processor.pl files:8080", "collector.pl files:8080 sha256=" + "0".repeat(64)))) {
            files.start();
            var signedImage = Instances.signedInstance(keys.resolve("whatami-signing.pub"));
            try (GenericContainer<?> signed = Instances.instance(signedImage, net, 0);
                 GenericContainer<?> unsigned = Instances.instance(signedImage, net, 1);
                 GenericContainer<?> wrongPin = Instances.instance(Instances.instance(), net, 2)) {
                signed.start();
                unsigned.start();
                wrongPin.start();
                assertThat(Instances.awaitAgent(signed)).isZero();
                assertThat(role(signed)).isEqualTo("collector");
                assertThat(Instances.read(signed, "/var/lib/whatami/status.json")).contains("\"trust\" : \"signature\"");

                assertThat(Instances.awaitAgent(unsigned)).isEqualTo(4);
                assertThat(role(unsigned)).isEmpty();
                assertThat(Instances.read(unsigned, "/var/lib/whatami/status.json")).contains("\"state\" : \"refused\"")
                        .contains("has no signature at http://files:8080/scriptserver/processor.pl.sig");

                assertThat(Instances.awaitAgent(wrongPin)).isEqualTo(4);
                assertThat(role(wrongPin)).isEmpty();
                assertThat(Instances.read(wrongPin, "/var/lib/whatami/status.json"))
                        .contains("but the user-data pins " + "0".repeat(64));
            }
        }
    }

    @Test
    void lateServer_theAgentWaitsAndSucceedsWithinItsDeadline() throws Exception {
        try (Network net = Instances.network();
             GenericContainer<?> instance = Instances.instance(Instances.instance(), net, 0);
             GenericContainer<?> files = Instances.files(net, www, List.of("collector.pl files:8080"))) {
            instance.start();
            // the scenario is wall-clock lateness: the file server comes up ten seconds after the instance
            TimeUnit.SECONDS.sleep(10);
            files.start();
            assertThat(Instances.awaitAgent(instance)).isZero();
            assertThat(role(instance)).isEqualTo("collector");
        }
    }

    @Test
    void reboot_perInstanceRunsOnce_perBootRunsAgain() throws Exception {
        try (Network net = Instances.network();
             GenericContainer<?> files = Instances.files(net, www, List.of(
                     "count-instance.sh files:8080\ncount-boot.sh files:8080 frequency=per-boot"))) {
            files.start();
            try (GenericContainer<?> instance = Instances.instance(Instances.instance(), net, 0)) {
                instance.start();
                assertThat(Instances.awaitAgent(instance)).isZero();
                instance.getDockerClient().restartContainerCmd(instance.getContainerId()).exec();
                // the new boot's agent appends a second per-boot line; wait for it inside the instance
                assertThat(instance.execInContainer("sh", "-c", "for i in $(seq 1 120); do [ \"$(wc -l < "
                        + "/var/tmp/per-boot-runs)\" -ge 2 ] && exit 0; sleep 1; done; exit 1").getExitCode()).isZero();
                assertThat(Instances.awaitAgent(instance)).isZero();
                assertThat(Instances.read(instance, "/var/tmp/per-instance-runs").lines()).hasSize(1);
                assertThat(Instances.read(instance, "/var/tmp/per-boot-runs").lines()).hasSize(2);
            }
        }
    }

    @Test
    void flakyNetwork_aDownloadCutMidwayResumesAndVerifies() throws Exception {
        Path bigWww = Files.createTempDirectory("big-www");
        byte[] payload = new byte[48 << 20];
        new java.util.Random(3).nextBytes(payload);
        byte[] head = ("#!/usr/bin/perl\nopen(my $f, '>', '/var/tmp/role') or die; print $f \"big\\n\"; close $f;\n"
                + "__END__\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] script = new byte[head.length + payload.length];
        System.arraycopy(head, 0, script, 0, head.length);
        System.arraycopy(payload, 0, script, head.length, payload.length);
        Files.write(bigWww.resolve("big.pl"), script);
        String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(script));
        bigWww.toFile().setReadable(true, false);
        bigWww.toFile().setExecutable(true, false);
        // the file server sends at 40 Mbit/s, so the 48 MiB download takes ~10 s: long enough to cut it after 8 MiB
        // with ~8 s to spare on a loaded machine
        try (Network net = Instances.network("172.31.251.0/24");
             GenericContainer<?> files = Instances.files(net, bigWww,
                             "tc qdisc add dev eth0 root tbf rate 40mbit burst 64kb latency 500ms; ",
                             List.of("big.pl files:8080 sha256=" + sha))
                     .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig()
                             .withCapAdd(com.github.dockerjava.api.model.Capability.NET_ADMIN))) {
            files.start();
            try (GenericContainer<?> instance = Instances.instance(Instances.instance(), net, 0)) {
                instance.start();
                // wait, inside the instance, until the staging file holds 8 MiB
                assertThat(instance.execInContainer("sh", "-c", "for i in $(seq 1 600); do s=$(find /var/lib/whatami "
                        + "-name '.big.pl.*.part' -size +8M 2>/dev/null | head -1); [ -n \"$s\" ] && exit 0; "
                        + "sleep 0.1; done; exit 1").getExitCode()).as("download under way").isZero();
                var docker = instance.getDockerClient();
                String id = instance.getContainerId();
                docker.disconnectFromNetworkCmd().withNetworkId(net.getId()).withContainerId(id).withForce(true).exec();
                // back on the network with another address: the old connection is dead, not merely paused
                String newIp = "172.31.251.200";
                docker.connectToNetworkCmd().withNetworkId(net.getId()).withContainerId(id)
                        .withContainerNetwork(new com.github.dockerjava.api.model.ContainerNetwork()
                                .withIpamConfig(new com.github.dockerjava.api.model.ContainerNetwork.Ipam()
                                        .withIpv4Address(newIp))).exec();
                assertThat(Instances.awaitAgent(instance)).isZero();
                assertThat(role(instance)).isEqualTo("big");
                assertThat(Instances.read(instance, "/var/lib/whatami/status.json")).contains("\"trust\" : \"pin\"");
                String access = Instances.read(files, "/srv/access.log");
                assertThat(access).as("the second request resumed with a byte range")
                        .containsPattern("\"GET /scriptserver/big\\.pl HTTP/1\\.1\" 206 ");
            }
        }
    }

    @Test
    void badUserData_exits2_saysWhereAndWhy_andNothingRuns() throws Exception {
        try (Network net = Instances.network();
             GenericContainer<?> files = Instances.files(net, www, List.of("collector.pl 999.1.1.1"))) {
            files.start();
            try (GenericContainer<?> instance = Instances.instance(Instances.instance(), net, 0)) {
                instance.start();
                assertThat(Instances.awaitAgent(instance)).isEqualTo(2);
                assertThat(Instances.read(instance, "/var/lib/whatami/status.json")).contains("\"state\" : \"invalid\"")
                        .contains("\"line\" : 1").contains("\"column\" : 14").contains("is not an IPv4 address");
                assertThat(role(instance)).isEmpty();
                assertThat(serverStatusOnce(files, st -> st.contains("\"state\" : \"invalid\"")))
                        .contains("\"state\" : \"invalid\"");
            }
        }
    }

    @Test
    void herd_tenInstancesBootAtOnce_andAllReportSuccess() throws Exception {
        try (Network net = Instances.network();
             GenericContainer<?> files = Instances.files(net, www, List.of("collector.pl files:8080"),
                     "--instance-id-per-client")) {
            files.start();
            List<GenericContainer<?>> herd = new ArrayList<>();
            try {
                for (int i = 0; i < 10; i++) {
                    herd.add(Instances.instance(Instances.instance(), net, 0));
                }
                herd.parallelStream().forEach(GenericContainer::start);
                for (GenericContainer<?> c : herd) {
                    assertThat(Instances.awaitAgent(c)).isZero();
                    assertThat(role(c)).isEqualTo("collector");
                }
                String status = serverStatusOnce(files, st -> st.split("\"state\" : \"done\"", -1).length >= 11);
                assertThat(status.split("\"state\" : \"done\"", -1)).hasSize(11);
            } finally {
                herd.forEach(GenericContainer::stop);
            }
        }
    }
}
