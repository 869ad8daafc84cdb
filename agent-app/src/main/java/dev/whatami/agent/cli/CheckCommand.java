package dev.whatami.agent.cli;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.whatami.userdata.TaskPlan;
import dev.whatami.userdata.UserDataException;
import dev.whatami.userdata.UserDataParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code whatami-agent check}: validate user-data before launching an instance with it. */
@Command(name = "check", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Validate user-data and print the plan it makes (exit 0), or every problem (exit 2)."})
final class CheckCommand implements Callable<Integer> {
    private static final JSON PRETTY = JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT)
            .without(JSON.Feature.WRITE_NULL_PROPERTIES);

    @Parameters(paramLabel = "USER-DATA", description = "The user-data text, @FILE to read a file, or - for stdin.")
    String input;

    @Option(names = "--json", description = "Print JSON for tools instead of text.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        byte[] bytes;
        try {
            bytes = read();
        } catch (IOException e) {
            err.println("whatami-agent check: cannot read " + input + ": " + (e instanceof NoSuchFileException
                    ? "no such file" : e.getMessage()));
            return ExitCode.USER_DATA_INVALID.code();
        }
        try {
            TaskPlan plan = UserDataParser.create().parse(bytes);
            out.print(json ? pretty(PlanView.json(plan)) + "\n" : "user-data is valid: " + PlanView.text(plan));
            out.flush();
            return ExitCode.OK.code();
        } catch (UserDataException e) {
            if (json) {
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("valid", false);
                doc.put("problems", PlanView.problems(e.problems()));
                out.println(pretty(doc));
                out.flush();
            } else {
                err.println(e.getMessage());
                err.flush();
            }
            return ExitCode.USER_DATA_INVALID.code();
        }
    }

    private byte[] read() throws IOException {
        if (input.equals("-")) {
            return System.in.readAllBytes();
        }
        if (input.startsWith("@")) {
            return Files.readAllBytes(Path.of(input.substring(1)));
        }
        return input.getBytes(StandardCharsets.UTF_8);
    }

    private static String pretty(Object value) {
        try {
            return PRETTY.asString(value);
        } catch (IOException e) {
            throw new IllegalStateException("cannot render JSON: " + e.getMessage(), e);
        }
    }
}
