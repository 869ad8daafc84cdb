package dev.whatami.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import dev.whatami.testsupport.DocChecks;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code docs/server.md}'s flag tables against the code, so neither can drift from the other: every option of
 * {@code whatami-server} and of its commands ({@code keygen}, {@code sign}) is documented under its heading with the
 * label and the default picocli really has (or, without one, the value the help's "Default:" names), and every
 * documented flag exists. A help text whose "Default:" disagrees with picocli's default fails too.
 *
 * <p>The table convention: a default in backticks is the value itself (optionally followed by a size in words,
 * {@code `67108864` (64 MiB)}, which must be the same number); a default in words (off, none, …) means the code has
 * no value. Booleans are {@code off}.
 *
 * <p>Every other value README.md and docs/ state is checked where a {@code <!-- checked (server-app): ... -->} comment
 * ties it to the code ({@link DocChecks}).
 */
class DocsDefaultsTest {
    private static final Path DOC = Path.of("..", "docs", "server.md");
    private static final String MODULE = "server-app";
    private static final String CHECK_EXAMPLE = "<!-- checked (" + MODULE + "): 120 s = java.time.Duration#ofSeconds(120) -->";
    private static final String PROGRAM = "whatami-server";

    /** One row of a flag table. */
    record Row(String flag, String label, String environment, String defaultCell) {
    }

    private static Map<String, Map<String, Row>> tables;
    /** The commands by name; "" is whatami-server itself. */
    private static Map<String, CommandSpec> commands;

    @BeforeAll
    static void read() throws IOException {
        tables = tables(Files.readAllLines(DOC, StandardCharsets.UTF_8), PROGRAM);
        commands = new LinkedHashMap<>();
        add("", WhatamiServer.commandLine(Map.of()));
    }

    /** {@code cl} and its commands, and theirs, by their names after the program's ("manifest sign"). */
    private static void add(String name, CommandLine cl) {
        commands.put(name, cl.getCommandSpec());
        cl.getSubcommands().forEach((sub, c) -> add(name.isEmpty() ? sub : name + " " + sub, c));
    }

    private static String name(String command) {
        return command.isEmpty() ? PROGRAM : PROGRAM + " " + command;
    }

    @Test
    void everyCommandWithOptionsHasATable_andEveryTableIsACommand() {
        for (Map.Entry<String, CommandSpec> c : commands.entrySet()) {
            if (!options(c.getValue()).isEmpty()) {
                assertThat(tables).as(DOC + " has a flag table under a heading `" + name(c.getKey()) + "`")
                        .containsKey(c.getKey());
            }
        }
        assertThat(commands).as("the commands " + DOC + " documents").containsKeys(tables.keySet().toArray(String[]::new));
    }

    @Test
    void everyFlagIsDocumented_withItsLabel_andEveryDocumentedFlagExists() {
        for (Map.Entry<String, Map<String, Row>> t : tables.entrySet()) {
            CommandSpec spec = commands.get(t.getKey());
            if (spec == null) {
                continue; // the test above names it
            }
            Map<String, OptionSpec> code = options(spec);
            assertThat(new TreeSet<>(t.getValue().keySet())).as("the flags of " + name(t.getKey()) + " in " + DOC)
                    .isEqualTo(new TreeSet<>(code.keySet()));
            for (Row row : t.getValue().values()) {
                OptionSpec o = code.get(row.flag());
                String label = o.arity().max() == 0 ? "" : o.paramLabel();
                assertThat(row.label()).as(name(t.getKey()) + " " + row.flag() + ": the label in " + DOC
                        + " (empty for a flag without a value)").isEqualTo(label);
            }
        }
    }

    @Test
    void defaults_areThePicocliDefaultsOrTheHelpsDefault() {
        for (Map.Entry<String, Map<String, Row>> t : tables.entrySet()) {
            if (!commands.containsKey(t.getKey())) {
                continue;
            }
            for (OptionSpec o : options(commands.get(t.getKey())).values()) {
                Optional<String> expected = o.arity().max() == 0 ? Optional.empty()
                        : Optional.ofNullable(o.defaultValue()).or(() -> helpDefault(o));
                if (o.defaultValue() != null) {
                    helpDefault(o).ifPresent(h -> assertThat(h).as(name(t.getKey()) + " " + o.longestName()
                            + ": the help's Default and picocli's defaultValue").isEqualTo(o.defaultValue()));
                }
                checkDefault(t.getKey(), t.getValue().get(o.longestName()), o, expected);
            }
        }
    }

    /** The parser and the checks themselves: a wrong default, a missing flag and a wrong gloss are caught. */
    @Test
    void theChecks_catchADriftedDoc() {
        List<String> doc = List.of("# x", "", "## `whatami-server`", "", "| option | default | meaning |",
                "|---|---|---|", "| `--port N` | `8081` | port |", "| `--max-upload BYTES` | `67108864` (32 MiB) | largest |",
                "| `--list` | off | listings |", "| `--access-log FILE\\|-` | none | log |", "",
                "## `whatami-server keygen`", "", "| option | default | meaning |", "|---|---|---|",
                "| `--out DIR` | none (required) | where |", "", "## Connections", "", "| `--port N` | `1` | not a table of flags |",
                "", "## `whatami-server manifest sign`", "", "| option | default | meaning |", "|---|---|---|",
                "| `--dir DIR` | none (required) | the scripts |");
        Map<String, Map<String, Row>> t = tables(doc, PROGRAM);
        assertThat(t).containsOnlyKeys("", "keygen", "manifest sign");
        assertThat(t.get("").get("--port")).isEqualTo(new Row("--port", "N", "", "`8081`"));
        assertThat(t.get("").get("--access-log").label()).isEqualTo("FILE|-");
        assertThat(t.get("keygen").get("--out").defaultCell()).isEqualTo("none (required)");
        Map<String, OptionSpec> top = options(commands.get(""));
        assertThatFails(() -> checkDefault("", t.get("").get("--port"), top.get("--port"), Optional.of("8080")));
        assertThatFails(() -> checkDefault("", t.get("").get("--max-upload"), top.get("--max-upload"),
                Optional.of("67108864")));
        assertThatFails(() -> checkDefault("", null, top.get("--port"), Optional.of("8080")));
        checkDefault("", t.get("").get("--list"), top.get("--list"), Optional.empty());
        assertThatFails(() -> checkDefault("", new Row("--list", "", "", "`false`"), top.get("--list"), Optional.empty()));
    }

    private static void assertThatFails(Runnable check) {
        try {
            check.run();
        } catch (AssertionError expected) {
            return;
        }
        fail("the check passed a drifted doc");
    }

    // ---- values stated in prose, checked against the code

    /** Every {@code <!-- checked (server-app): ... -->} comment in README.md and docs/ holds: see {@link DocChecks}. */
    @Test
    void everyCheckedValueInTheDocs_isTheCodes() throws IOException {
        List<DocChecks.Check> checks = DocChecks.read(Path.of(".."), MODULE);
        assertThat(checks).as("the checked values of " + MODULE).isNotEmpty();
        List<String> wrong = new ArrayList<>();
        for (DocChecks.Check c : checks) {
            try {
                DocChecks.verify(c);
            } catch (AssertionError | ReflectiveOperationException | RuntimeException e) {
                wrong.add(c.where() + ": " + e.getMessage());
            }
        }
        assertThat(wrong).as("values the docs state that the code does not have").isEmpty();
    }

    @Test
    void theCheckedValues_catchADriftedDoc() throws ReflectiveOperationException {
        List<String> doc = List.of("A boot waits at most 120 s.", CHECK_EXAMPLE, "",
                "Told twice: 5 s.", "<!-- checked (" + MODULE + "): 7 s = java.time.Duration#ofSeconds(7) -->");
        List<DocChecks.Check> checks = DocChecks.parse(Path.of("x.md"), doc, MODULE);
        assertThat(checks).hasSize(2);
        DocChecks.verify(checks.get(0));
        assertThatFails(() -> verifyUnchecked(checks.get(1))); // "7 s" is not in the text it checks
        List<DocChecks.Check> wrongValue = DocChecks.parse(Path.of("x.md"), List.of("It is 8 KiB.",
                "<!-- checked (" + MODULE + "): 8 KiB = java.lang.Integer#MAX_VALUE -->"), MODULE);
        assertThatFails(() -> verifyUnchecked(wrongValue.get(0)));
        assertThat(DocChecks.parse(Path.of("x.md"), List.of("x", "<!-- checked (" + (MODULE.equals("agent-app") ? "server-app" : "agent-app") + "): 1 = a.B#C -->"), MODULE))
                .as("another module's check").isEmpty();
        assertThatFails(() -> DocChecks.parse(Path.of("x.md"), List.of("x", "<!-- checked (nobody): 1 = a.B#C -->"),
                MODULE));
        assertThat(DocChecks.docValue("64 MiB")).isEqualTo(64L << 20);
        assertThat(DocChecks.docValue("1 KiB/s")).isEqualTo(1024L);
        assertThat(DocChecks.docValue("50,000")).isEqualTo(50_000L);
        assertThat(DocChecks.docValue("5 min")).isEqualTo(Duration.ofMinutes(5));
        assertThat(DocChecks.docValue("200 ms")).isEqualTo(Duration.ofMillis(200));
        // a literal in a file of the repository, and a unit for a bare number
        assertThat(DocChecks.resolve("file:pom.xml#<artifactId>(server-app)</artifactId>", Path.of("."))).isEqualTo("server-app");
        DocChecks.verify(new DocChecks.Check("x", "4 s", "=", "file:pom.xml#<modelVersion>(\\d)\\.0\\.0@s", "takes 4 s",
                Path.of(".")));
        assertThatFails(() -> verifyUnchecked(new DocChecks.Check("x", "4 ms", "=",
                "file:pom.xml#<modelVersion>(\\d)\\.0\\.0@s", "takes 4 ms", Path.of("."))));
        assertThatFails(() -> verifyUnchecked(new DocChecks.Check("x", "4", "=", "file:pom.xml#<nothing>(\\d+)", "4",
                Path.of("."))));
    }

    private static void verifyUnchecked(DocChecks.Check c) {
        try {
            DocChecks.verify(c);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    // ---- the checks

    private static void checkDefault(String command, Row row, OptionSpec o, Optional<String> expected) {
        assertThat(row).as(DOC + " documents " + name(command) + " " + o.longestName()).isNotNull();
        String where = DOC + ": the default of " + name(command) + " " + o.longestName() + " (\"" + row.defaultCell() + "\")";
        Optional<String> documented = literal(row.defaultCell());
        if (expected.isPresent()) {
            assertThat(documented).as(where + " must start with `" + expected.get() + "`").contains(expected.get());
            Matcher gloss = Pattern.compile("^`[^`]*` \\((\\d+) (KiB|MiB|GiB)\\)").matcher(row.defaultCell());
            if (gloss.find()) {
                long bytes = Long.parseLong(gloss.group(1)) << switch (gloss.group(2)) {
                    case "KiB" -> 10;
                    case "MiB" -> 20;
                    default -> 30;
                };
                assertThat(Long.toString(bytes)).as(where + ": the size in words").isEqualTo(expected.get());
            }
        } else {
            assertThat(documented).as(where + ": the code has no value here, so the doc may not name one").isEmpty();
            if (o.arity().max() == 0) {
                assertThat(row.defaultCell()).as(where + ": a flag without a value").isEqualTo("off");
            }
        }
    }

    // ---- reading the code

    /** A command's options by long name, without --help, --version and hidden ones (which help does not show). */
    static Map<String, OptionSpec> options(CommandSpec spec) {
        Map<String, OptionSpec> out = new LinkedHashMap<>();
        for (OptionSpec o : spec.options()) {
            if (!o.usageHelp() && !o.versionHelp() && !o.hidden()) {
                out.put(o.longestName(), o);
            }
        }
        return out;
    }

    /**
     * The value a help text's "Default: ..." names, if it names one: after any "$VARIABLE, else" and "..., else"
     * alternatives, a path, a number or a duration at the start of the last one ({@code /var/lib/whatami},
     * {@code 10s}, {@code 67108864}); empty for words ({@code none}, {@code this jar}, {@code what is left of ...}).
     */
    static Optional<String> helpDefault(OptionSpec o) {
        String text = String.join(" ", o.description());
        int at = text.lastIndexOf("Default: ");
        if (at < 0) {
            return Optional.empty();
        }
        String d = text.substring(at + "Default: ".length());
        String[] alternatives = d.split(", else ");
        String last = alternatives[alternatives.length - 1].strip();
        if (last.startsWith("${DEFAULT-VALUE}")) {
            return Optional.ofNullable(o.defaultValue());
        }
        Matcher m = Pattern.compile("^(/\\S*|\\d\\S*|auto\\b)").matcher(last);
        if (!m.find()) {
            return Optional.empty();
        }
        return Optional.of(m.group(1).replaceAll("[.,;)]+$", ""));
    }

    // ---- reading the doc

    /** The value a default cell names: the text of a leading {@code `...`}, else empty. */
    static Optional<String> literal(String cell) {
        Matcher m = Pattern.compile("^`([^`]*)`").matcher(cell);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /**
     * The flag tables of {@code lines}, by command: the rows starting with {@code | `--} of the first table under each
     * heading {@code `program command`} (also {@code `program command subcommand`}; {@code `program`} alone is keyed
     * ""). With four columns the second is the environment.
     */
    static Map<String, Map<String, Row>> tables(List<String> lines, String program) {
        Pattern heading = Pattern.compile("^#+ `" + Pattern.quote(program) + "(?: ([a-z-]+(?: [a-z-]+)*))?`$");
        Map<String, Map<String, Row>> out = new LinkedHashMap<>();
        String command = null;
        boolean inTable = false;
        for (String l : lines) {
            Matcher h = heading.matcher(l);
            if (h.matches()) {
                command = h.group(1) == null ? "" : h.group(1);
                inTable = false;
                continue;
            }
            if (l.startsWith("#")) {
                command = null;
                continue;
            }
            if (command == null) {
                continue;
            }
            if (l.startsWith("|")) {
                inTable = true;
                if (!l.startsWith("| `--")) {
                    continue;
                }
                List<String> cells = cells(l);
                Matcher f = Pattern.compile("^`(--[a-z0-9-]+)(?: ([^`]+))?`$").matcher(cells.get(0));
                if (!f.matches()) {
                    throw new AssertionError(DOC + ": a flag cell must be `--name LABEL` or `--name`: " + l);
                }
                Row row = cells.size() >= 4 ? new Row(f.group(1), f.group(2) == null ? "" : f.group(2), cells.get(1),
                        cells.get(2)) : new Row(f.group(1), f.group(2) == null ? "" : f.group(2), "", cells.get(1));
                Map<String, Row> table = out.computeIfAbsent(command, k -> new LinkedHashMap<>());
                if (table.put(row.flag(), row) != null) {
                    throw new AssertionError(DOC + ": " + row.flag() + " twice under " + command);
                }
            } else if (inTable) {
                command = null; // only the first table after the heading
                inTable = false;
            }
        }
        return out;
    }

    /** A table row's cells, trimmed; {@code \|} inside a cell is a pipe. */
    private static List<String> cells(String row) {
        String body = row.strip();
        body = body.substring(1, body.length() - 1);
        List<String> out = new ArrayList<>();
        for (String c : body.split("(?<!\\\\)\\|", -1)) {
            out.add(c.strip().replace("\\|", "|"));
        }
        return out;
    }
}
