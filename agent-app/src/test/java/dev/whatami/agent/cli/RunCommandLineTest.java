package dev.whatami.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The hand-built picocli model of {@code run} (no annotations on the boot path) against what it must offer. */
class RunCommandLineTest {
    @TempDir
    Path dir;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    /** As main does it: run gets a command line of its own. */
    private int agent(Map<String, String> env, String... args) {
        return WhatamiAgent.execute(env, args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void runAlone_readsLikeRunUnderTheTopLevelCommand() {
        StringWriter viaTop = new StringWriter();
        CommandLine top = WhatamiAgent.commandLine(Map.of());
        top.setOut(new PrintWriter(viaTop, true));
        assertThat(top.execute("run", "--help")).isZero();
        assertThat(agent(Map.of(), "run", "--help")).isZero();
        assertThat(out.toString()).isEqualTo(viaTop.toString());

        StringWriter errViaTop = new StringWriter();
        top.setErr(new PrintWriter(errViaTop, true));
        assertThat(top.execute("run", "--bogus")).isEqualTo(2);
        assertThat(agent(Map.of(), "run", "--bogus")).isEqualTo(2);
        assertThat(err.toString()).isEqualTo(errViaTop.toString())
                .isEqualTo("whatami-agent: Unknown option: '--bogus'\nRun whatami-agent run --help for the options.\n");
    }

    @Test
    void help_offersAFlagForEverySettingTheConfigFileAndEnvironmentAccept() {
        assertThat(agent(Map.of(), "run", "--help")).isZero();
        String help = out.toString();
        assertThat(help).startsWith("Usage: whatami-agent run [-hV]");
        for (String key : RunCommand.KEYS) {
            assertThat(help).as("--" + key + " in run --help").containsPattern("(?m)^\\s+--" + key + "\\b");
        }
        assertThat(help).contains("--config=FILE", "--print-config", "-h, --help", "-V, --version",
                "Exit codes: 0 all tasks succeeded");
    }

    @Test
    void flagsAreParsedWithTheirTypes_andWinOverEnvironment() {
        Path userData = dir.resolve("user-data");
        int code = agent(Map.of("WHATAMI_DEADLINE", "5m", "WHATAMI_DRY_RUN", "false", "WHATAMI_REQUIRE_HTTPS", "true",
                "WHATAMI_REPORT_BUDGET", "7s"), "run", "--print-config",
                "--user-data-file", userData.toString(), "--state-dir", dir.resolve("s").toString(), "--dry-run",
                "--max-script-size", "1024", "--deadline", "90s", "--imds-v2-required");
        assertThat(code).as(err.toString()).isZero();
        assertThat(out.toString())
                .containsPattern("deadline\\s+90s\\s+\\(flag --deadline\\)")
                .containsPattern("dry-run\\s+true\\s+\\(flag --dry-run\\)")
                .containsPattern("imds-v2-required\\s+true\\s+\\(flag --imds-v2-required\\)")
                .containsPattern("max-script-size\\s+1024\\s+\\(flag --max-script-size\\)")
                .containsPattern("user-data-file\\s+" + java.util.regex.Pattern.quote(userData.toString()))
                .containsPattern("report-budget\\s+7s\\s+\\(environment WHATAMI_REPORT_BUDGET\\)")
                .containsPattern("require-https\\s+true\\s+\\(environment WHATAMI_REQUIRE_HTTPS\\)")
                .containsPattern("require-signature\\s+false\\s+\\(default\\)");
    }

    @Test
    void badValues_areUsageErrorsThatNameTheOption() {
        assertThat(agent(Map.of(), "run", "--max-script-size", "lots")).isEqualTo(2);
        assertThat(err.toString()).contains("--max-script-size", "lots").contains("run --help");
        assertThat(agent(Map.of(), "run", "--version")).isZero();
        assertThat(out.toString()).startsWith("whatami-agent ");
    }
}
