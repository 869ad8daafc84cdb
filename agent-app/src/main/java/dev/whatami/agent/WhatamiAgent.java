package dev.whatami.agent;

import java.io.PrintWriter;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code whatami-agent}: the boot agent's command line. The environment is read here and nowhere deeper. */
@Command(name = "whatami-agent", mixinStandardHelpOptions = true, versionProvider = WhatamiAgent.Version.class,
        subcommands = {RunCommand.class, CheckCommand.class, StatusCommand.class, InstallCommand.class,
                WhatamiAgent.VersionCommand.class},
        description = {"Asks the cloud \"what am I?\", fetches the script its user-data names, proves it is the one "
                + "its owner meant, runs it, and records what happened."})
public final class WhatamiAgent implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "give a command: run, check, status, install, version (see --help)");
    }

    public static void main(String[] args) {
        configureLogging();
        System.exit(commandLine(System.getenv()).execute(args));
    }

    /** slf4j-simple reads these on first use: short lines on stderr, which a boot console shows. */
    static void configureLogging() {
        setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", "info");
        setIfAbsent("org.slf4j.simpleLogger.log.org.apache.hc", "warn");
        setIfAbsent("org.slf4j.simpleLogger.showThreadName", "false");
        setIfAbsent("org.slf4j.simpleLogger.showLogName", "false");
        setIfAbsent("org.slf4j.simpleLogger.showDateTime", "true");
        setIfAbsent("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
        setIfAbsent("org.slf4j.simpleLogger.levelInBrackets", "true");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    static CommandLine commandLine(Map<String, String> env) {
        CommandLine cl = new CommandLine(new WhatamiAgent(), new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                if (cls == RunCommand.class) {
                    return cls.cast(new RunCommand(env));
                }
                return CommandLine.defaultFactory().create(cls);
            }
        });
        cl.setExpandAtFiles(false); // "check @file" is ours: picocli must not expand it as an argument file
        cl.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("whatami-agent: " + ex.getMessage());
            err.println("Run " + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help for the options.");
            return ExitCode.USER_DATA_INVALID.code();
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("whatami-agent: " + ex.getClass().getSimpleName() + ": " + ex.getMessage());
            return ExitCode.TASK_FAILED.code();
        });
        return cl;
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
