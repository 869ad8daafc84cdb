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

    /** The same {@code run} through the top-level picocli command line, which never takes the plain path. */
    private String viaPicocli(Map<String, String> env, int expectedCode, String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        CommandLine top = WhatamiAgent.commandLine(env);
        top.setOut(new PrintWriter(o, true));
        top.setErr(new PrintWriter(e, true));
        String[] all = new String[args.length + 1];
        all[0] = "run";
        System.arraycopy(args, 0, all, 1, args.length);
        assertThat(top.execute(all)).as(e.toString()).isEqualTo(expectedCode);
        return o + "|" + e;
    }

    private String viaPlain(Map<String, String> env, int expectedCode, String... args) {
        assertThat(RunCommand.plainFlags(args)).as("plain flags").isPresent();
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        String[] all = new String[args.length + 1];
        all[0] = "run";
        System.arraycopy(args, 0, all, 1, args.length);
        assertThat(agent(env, all)).as(err.toString()).isEqualTo(expectedCode);
        return out + "|" + err;
    }

    @Test
    void thePlainPath_readsFlagsExactlyAsPicocliDoes() {
        Map<String, String> env = Map.of("WHATAMI_REPORT_BUDGET", "7s");
        String[][] cases = {
            {"--print-config"},
            {"--print-config", "--state-dir", dir.resolve("s").toString(), "--log-dir=" + dir.resolve("l"),
                "--max-script-size", "2048", "--dry-run", "--imds-v2-required", "--provider=ec2",
                "--metadata-endpoint", "http://127.0.0.1:9/", "--deadline", "2m", "--report-url",
                "http://127.0.0.1:9/reports", "--report-token", "s3cret", "--allow-env", "ROLE,APP_*"},
            {"--print-config", "--user-data-file", dir.resolve("ud").toString(), "--boot-id", "b-1",
                "--require-https", "--require-signature", "--fetch-deadline", "30s", "--sysfs-root", dir.toString()},
        };
        for (String[] c : cases) {
            assertThat(viaPlain(env, 0, c)).isEqualTo(viaPicocli(env, 0, c)).doesNotContain("s3cret");
        }
        String[][] bad = {
            {"--deadline", "forever"}, {"--provider", "ibm"}, {"--max-script-size", "0"}, {"--allow-env", "1X"},
            {"--report-url", "ftp://user:pw@files.example/x"}, {"--deadline", "0s"},
        };
        for (String[] c : bad) {
            String plain = viaPlain(env, 2, c);
            assertThat(plain).isEqualTo(viaPicocli(env, 2, c)).contains("Run whatami-agent run --help for the options.")
                    .doesNotContain("pw@");
        }
    }

    @Test
    void anythingButPlainFlags_isLeftToPicocli() {
        String[][] notPlain = {
            {"--help"}, {"-h"}, {"-V"}, {"--version"}, {"--bogus"}, {"extra"}, {"--state-dir"}, {"--state-dir="},
            {"--state-dir", "--log-dir", "x"}, {"--dry-run=true"}, {"--dry-run", "--dry-run"},
            {"--state-dir", "a", "--state-dir=b"}, {"--max-script-size", "lots"}, {"--max-script-size", "-1"},
            {"--", "--dry-run"}, {"-hV"},
        };
        for (String[] c : notPlain) {
            assertThat(RunCommand.plainFlags(c)).as(String.join(" ", c)).isEmpty();
        }
        assertThat(RunCommand.plainFlags(new String[] {"--state-dir", "/s", "--dry-run", "--max-script-size=9"}))
                .hasValueSatisfying(f -> assertThat(f).containsExactlyInAnyOrderEntriesOf(Map.of(
                        "--state-dir", Path.of("/s"), "--dry-run", Boolean.TRUE, "--max-script-size", 9L)));
        assertThat(RunCommand.plainFlags(new String[0])).hasValue(Map.of());
    }
}
