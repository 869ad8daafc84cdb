package dev.whatami.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** userdata-core's bad-input corpus through both commands: exit 2 from check and from run, nothing run. */
class BadInputCorpusAgentTest {
    static final Path CORPUS = Path.of("../userdata-core/src/test/resources/corpus/bad");

    @TempDir
    Path dir;

    private int execute(StringWriter out, StringWriter err, String... args) {
        CommandLine cl = WhatamiAgent.commandLine(Map.of());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void everyBadInput_exits2FromCheckAndRun_andStatusSaysWhy_butAnotherToolsUserDataIsNothingToDo() throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.list(CORPUS)) {
            files = s.sorted().toList();
        }
        assertThat(files).hasSizeGreaterThanOrEqualTo(13);
        for (Path f : files) {
            String name = f.getFileName().toString();
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            assertThat(execute(out, err, "check", "@" + f)).as("check " + name).isEqualTo(2);
            assertThat(err.toString()).as(name).startsWith("invalid user-data").doesNotContain("Exception");

            Path state = dir.resolve(name + "-state");
            int run = execute(new StringWriter(), new StringWriter(), "run", "--user-data-file", f.toString(),
                    "--state-dir", state.toString(), "--log-dir", dir.resolve("log").toString());
            Map<String, Object> status = StatusJson.read(state.resolve("status.json"));
            if (name.startsWith("cloud-config")) {
                // another boot tool's user-data on an image that may also run it: nothing for whatami, not a failure
                assertThat(run).as("run " + name).isZero();
                assertThat(status).containsEntry("state", "done");
                assertThat(status.get("message").toString()).startsWith("nothing for whatami to do: ")
                        .contains("cloud-config");
                assertThat(state.resolve("instances")).as(name).doesNotExist();
                continue;
            }
            assertThat(run).as("run " + name).isEqualTo(2);
            assertThat(status).as(name).containsEntry("exitCode", 2).containsEntry("result", "user-data-invalid");
            assertThat(status.get("message").toString()).as(name).isEqualTo(err.toString().strip());
            assertThat(state.resolve("instances")).as(name).doesNotExist();
        }
        try (Stream<Path> logs = Files.list(dir.resolve("log"))) {
            assertThat(logs.map(p -> p.getFileName().toString())).containsExactly("agent.log"); // no task ran
        }
    }
}
