package dev.whatami.agent.cli;

import java.io.PrintWriter;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code whatami-agent}: the boot agent's command line. The environment is read here and nowhere deeper.
 *
 * <p>The top-level command and {@code run} (the boot path) have picocli models built by hand; reading picocli
 * annotations by reflection costs ~35 ms at every start. The other commands keep their annotations.
 */
public final class WhatamiAgent implements Runnable {
    private CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "give a command: run, check, status, reset, install, version (see --help)");
    }

    public static void main(String[] args) {
        Map<String, String> env = System.getenv();
        AgentLog.console(System.err, AgentLog.level(env.get("WHATAMI_LOG_LEVEL")), java.time.Clock.systemUTC());
        if (args.length > 0 && args[0].equals("run") && !Boolean.getBoolean("whatami.noWarmup")) {
            Warmup.start();
        }
        System.exit(execute(env, args, null, null));
    }

    /**
     * Runs the command {@code args} name; {@code out}/{@code err} null for the process's own streams.
     *
     * <p>{@code run}, the boot path, parses its flags itself when they are plain ({@link RunCommand#plainFlags}):
     * building picocli's model costs ~60 ms of a ~400 ms boot. Anything else (help, a bad or unknown flag)
     * gets a picocli command line of its own, named "whatami-agent run", without the top-level one above it. Help,
     * errors and exit codes read the same either way.
     */
    public static int execute(Map<String, String> env, String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl;
        String[] rest;
        if (err != null) {
            // in-process callers (tests, tools) hear the agent's log on the err they gave
            try {
                AgentLog.console(new java.io.PrintStream(org.apache.commons.io.output.WriterOutputStream.builder()
                        .setWriter(err).setCharset(java.nio.charset.StandardCharsets.UTF_8).setWriteImmediately(true)
                        .get(), true, java.nio.charset.StandardCharsets.UTF_8),
                        AgentLog.level(env.get("WHATAMI_LOG_LEVEL")), java.time.Clock.systemUTC());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        if (args.length > 0 && args[0].equals("run")) {
            rest = java.util.Arrays.copyOfRange(args, 1, args.length);
            java.util.Optional<Map<String, Object>> plain = RunCommand.plainFlags(rest);
            if (plain.isPresent()) { // a boot: no picocli model at all
                return new RunCommand(env).runPlain(plain.get(), out != null ? out : stream(System.out),
                        err != null ? err : stream(System.err));
            }
            CommandSpec run = new RunCommand(env).commandSpec();
            run.name("whatami-agent run");
            cl = handled(new CommandLine(run));
        } else {
            cl = commandLine(env, args);
            rest = args;
        }
        if (out != null) {
            cl.setOut(out);
        }
        if (err != null) {
            cl.setErr(err);
        }
        return cl.execute(rest);
    }

    /** A writer on one of the process's streams, as picocli makes its own: buffered, flushed at each line. */
    private static PrintWriter stream(java.io.PrintStream s) {
        return new PrintWriter(new java.io.BufferedWriter(new java.io.OutputStreamWriter(s, java.nio.charset.Charset
                .defaultCharset())), true);
    }

    /** Every command line, for help and tests. */
    static CommandLine commandLine(Map<String, String> env) {
        return commandLine(env, new String[0]);
    }

    /**
     * The command line for {@code args}. Building a command's model costs time at boot: when the first argument
     * names a command, only that one is built (help lists them all).
     */
    static CommandLine commandLine(Map<String, String> env, String[] args) {
        WhatamiAgent top = new WhatamiAgent();
        top.spec = CommandSpec.wrapWithoutInspection(top);
        top.spec.name("whatami-agent").versionProvider(new Version());
        top.spec.usageMessage().description("Asks the cloud \"what am I?\", fetches the script its user-data names, "
                + "proves it is the one its owner meant, runs it, and records what happened.");
        addStandardHelpOptions(top.spec);
        CommandLine cl = new CommandLine(top.spec);
        Map<String, java.util.function.Supplier<Object>> commands = new java.util.LinkedHashMap<>();
        commands.put("run", () -> new RunCommand(env).commandSpec());
        commands.put("check", CheckCommand::new);
        commands.put("status", () -> new StatusCommand(env));
        commands.put("reset", () -> new ResetCommand(env));
        commands.put("install", dev.whatami.agent.install.InstallCommand::new);
        commands.put("version", VersionCommand::new);
        String first = args.length > 0 ? args[0] : "";
        if (commands.containsKey(first)) {
            cl.addSubcommand(first, commands.get(first).get());
        } else {
            commands.forEach((name, make) -> cl.addSubcommand(name, make.get()));
        }
        return handled(cl);
    }

    /** How every command line reports bad usage and unexpected failures. */
    private static CommandLine handled(CommandLine cl) {
        cl.setExpandAtFiles(false); // "check @file" is ours: picocli must not expand it as an argument file
        cl.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("whatami-agent: " + ex.getMessage());
            err.println("Run " + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help for the options.");
            return ExitCode.USER_DATA_INVALID.code();
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            // never a stack trace: what failed, in one line
            commandLine.getErr().println("whatami-agent: " + ex.getClass().getSimpleName() + ": " + ex.getMessage());
            return ExitCode.TASK_FAILED.code();
        });
        return cl;
    }

    /** What picocli's {@code mixinStandardHelpOptions} adds, without reading its annotated mixin by reflection. */
    static void addStandardHelpOptions(CommandSpec spec) {
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true)
                .description("Show this help message and exit.").build());
        spec.addOption(OptionSpec.builder("-V", "--version").versionHelp(true)
                .description("Print version information and exit.").build());
    }

    /** {@code whatami-agent version}. */
    @Command(name = "version", description = "Print the version.")
    static final class VersionCommand implements Runnable {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().getOut().println(new Version().getVersion()[0]);
        }
    }

    /** Version from the jar's manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = WhatamiAgent.class.getPackage().getImplementationVersion();
            return new String[] {"whatami-agent " + (v == null ? "(development build)" : v)};
        }
    }
}
