package dev.whatami.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CheckCommandTest {
    @TempDir
    Path dir;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int check(String... args) {
        CommandLine cl = WhatamiAgent.commandLine(Map.of());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        String[] all = new String[args.length + 1];
        all[0] = "check";
        System.arraycopy(args, 0, all, 1, args.length);
        return cl.execute(all);
    }

    @Test
    void validSeedLine_printsThePlan() {
        assertThat(check("collector.pl 192.168.7.77")).isZero();
        assertThat(out.toString()).isEqualTo("""
                user-data is valid: 1 task, run in order:
                  1. collector.pl
                     from       http://192.168.7.77/scriptserver/collector.pl
                     integrity  none pinned (add sha256=... to be sure it is the script you meant)
                     frequency  per-instance
                """);
    }

    @Test
    void invalidFile_printsEveryProblemAndExits2() throws Exception {
        Path f = Files.writeString(dir.resolve("ud.txt"), "\u201Ccollector.pl 192.168.7.77\nx.pl 1.2.3.4 sha=1\n");
        assertThat(check("@" + f)).isEqualTo(2);
        assertThat(err.toString()).contains("line 1, column 1: \"\u201C\" is a typographic quote")
                .contains("line 2, column 14: unknown key \"sha\"; did you mean \"sha256\"?");
    }

    @Test
    void json_forTools() {
        assertThat(check("--json", "c.sh 10.0.0.1 env.TOKEN=hunter2")).isZero();
        assertThat(out.toString()).contains("\"valid\" : true").contains("\"env\" : [ \"TOKEN\" ]")
                .doesNotContain("hunter2");
        out.getBuffer().setLength(0);
        assertThat(check("--json", "c.sh")).isEqualTo(2);
        assertThat(out.toString()).contains("\"valid\" : false").contains("\"line\" : 1");
    }

    @Test
    void missingFile_isExplained() {
        assertThat(check("@/nonexistent/ud")).isEqualTo(2);
        assertThat(err.toString()).isEqualTo("whatami-agent check: cannot read @/nonexistent/ud: no such file\n");
    }
}
