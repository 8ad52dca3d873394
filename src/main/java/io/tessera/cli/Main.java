package io.tessera.cli;

import io.tessera.engine.safetensors.CheckpointException;
import io.tessera.scheduler.InvalidRequestException;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * bin/tessera: the engine's command line (the service is started by bin/tessera serve). Exit status 0 on success,
 * 1 when the work fails (one line on stderr naming the cause), 2 for bad usage (the line and the command's usage).
 */
// scope INHERIT: every command shows its options' defaults
@Command(name = "tessera", scope = ScopeType.INHERIT, showDefaultValues = true, subcommands = {VerifyFixtures.class, Generate.class, Perplexity.class, Bench.class},
        description = "The engine's command line (`tessera COMMAND --help`: a command's options); "
                + "`bin/tessera serve` starts the HTTP service.")
public final class Main implements Runnable {
    @Option(names = {"-h", "--help"}, usageHelp = true, scope = ScopeType.INHERIT, description = "this help")
    boolean help;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "a command is needed");
    }

    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    static int run(String... argv) {
        return commandLine().execute(argv);
    }

    static CommandLine commandLine() {
        return new CommandLine(new Main())
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setParameterExceptionHandler(Main::usageError)
                .setExecutionExceptionHandler(Main::failure);
    }

    private static int usageError(ParameterException e, String[] argv) {
        CommandLine cl = e.getCommandLine();
        cl.getErr().println("tessera: " + e.getMessage());
        cl.usage(cl.getErr());
        return CommandLine.ExitCode.USAGE;
    }

    /** The failures a model, adapter or input file can cause: one line, no stack trace. */
    private static int failure(Exception e, CommandLine cl, CommandLine.ParseResult parsed) throws Exception {
        String message;
        if (e instanceof NoSuchFileException) {
            message = e.getMessage() + ": file not found";
        } else if (e instanceof ConnectException) {
            // the JDK's HTTP client says nothing more than the exception's class
            message = "cannot connect to the server: is it running at --url?";
        } else if (e instanceof CheckpointException || e instanceof InvalidRequestException || e instanceof IOException
                || e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
            message = e.getMessage();
        } else if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
            return 130;
        } else {
            throw e;
        }
        cl.getErr().println("tessera: " + message);
        return 1;
    }

    /** A bounded integer option: outside [min, max] is a usage error naming the option. */
    static int inRange(CommandSpec spec, String option, int value, int min, int max) {
        if (value < min || value > max) {
            throw new ParameterException(spec.commandLine(),
                    option + " must be between " + min + " and " + max + " (got " + value + ")");
        }
        return value;
    }

    private Main() {
    }
}
