package dev.whatami.it;

import static dev.whatami.it.SystemdImages.await;
import static dev.whatami.it.SystemdImages.sh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;

/**
 * The seed's way, {@code install --rc-local}: the agent started from rc.local runs in
 * a process group of its own, so {@code kill -9} of the agent takes the script it was running along instead of
 * leaving it to finish unrecorded; task output is not copied into {@code agent.log}.
 */
class RcLocalIT {
    @TempDir
    static Path www;

    @BeforeAll
    static void images() throws Exception {
        assumeTrue(Instances.dockerAvailable(), "no Docker engine");
        Instances.ensureBase();
        Files.writeString(www.resolve("slow.sh"), """
                echo started >> /var/tmp/slow-runs
                echo "a line of task output"
                sleep 30
                echo finished >> /var/tmp/slow-runs
                """);
        www.toFile().setReadable(true, false);
        www.toFile().setExecutable(true, false);
    }

    /** install on a running machine (--root /) trains the archive there, under the name the launcher looks for. */
    @Test
    void installOnTheMachineItself_buildsTheArchiveTheLauncherUses() throws Exception {
        try (Network net = Instances.network();
             GenericContainer<?> m = Instances.instance(Instances.instance(), net, 0)) {
            m.start();
            String out = sh(m, "java -jar /opt/whatami/whatami-agent.jar install --rc-local");
            String name = "whatami-agent." + sh(m, "stat -L --printf '%s-%Y.' /usr/share/whatami/whatami-agent.jar "
                    + "/usr/bin/java") + "jsa";
            assertThat(out).contains("built the AppCDS archive /var/cache/whatami/" + name + "\n");
            assertThat(sh(m, "ls /var/cache/whatami")).isEqualTo(name + "\n");
            assertThat(SystemdBootIT.sharedClasses(m)).contains("dev.whatami.agent.cli.WhatamiAgent source: shared objects file")
                    .contains("dev.whatami.agent.cli.AgentLog source: shared objects file");
            assertThat(sh(m, "cat /etc/rc.local")).contains("; /usr/bin/whatami-agent cds >/dev/null 2>&1' </dev/null &");
        }
    }

    @Test
    void killedAgent_takesItsScriptAlong_andTheTaskDoesNotRunAgainUnrecorded() throws Exception {
        try (Network net = Instances.network();
             GenericContainer<?> files = Instances.files(net, www, List.of("slow.sh files:8080"))) {
            files.start();
            try (GenericContainer<?> m = Instances.instance(Instances.instance(), net, 0)) {
                m.start();
                await(m, "grep -q started /var/tmp/slow-runs 2>/dev/null", Duration.ofSeconds(60));
                // the launcher runs java -cp …/whatami-agent.jar dev.whatami.agent.cli.WhatamiAgent run
                sh(m, "pkill -KILL -f '[W]hatamiAgent run'");
                // the group is killed when the agent's death is seen: the script's sleep goes with it
                await(m, "! pgrep -f '[s]leep 30' >/dev/null", Duration.ofSeconds(10));
                assertThat(sh(m, "cat /var/tmp/slow-runs")).isEqualTo("started\n");
                assertThat(sh(m, "cat /var/log/whatami/agent.log")).doesNotContain("a line of task output");
                assertThat(sh(m, "cat /var/log/whatami/slow.sh.out")).contains("a line of task output");

                // the next boot finds the attempt interrupted: a failed attempt (retries=0), not a second run
                String started = sh(m, "grep startedAt /var/lib/whatami/status.json");
                m.getDockerClient().restartContainerCmd(m.getContainerId()).withTimeout(5).exec();
                await(m, "! grep -qF '" + started.strip() + "' /var/lib/whatami/status.json", Duration.ofSeconds(60));
                int second = Instances.awaitAgent(m);
                assertThat(second).as(() -> describe(m)).isEqualTo(1);
                assertThat(sh(m, "cat /var/tmp/slow-runs")).isEqualTo("started\n");
                assertThat(sh(m, "cat /var/lib/whatami/status.json")).contains("interrupted");
            }
        }
    }

    /** What the instance says, for a failure's message. */
    private static String describe(GenericContainer<?> m) {
        try {
            return m.execInContainer("sh", "-c", "cat /var/lib/whatami/status.json; tail -30 /var/log/whatami/agent.log; "
                    + "ps -eo pid,pgid,sid,stat,args").getStdout();
        } catch (Exception e) {
            return "(cannot read the instance: " + e + ")";
        }
    }
}
