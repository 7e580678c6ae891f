package dev.prism.cli;

import dev.prism.backend.DeviceException;
import dev.prism.backend.TornadoSettings;
import dev.prism.kernels.ArgumentException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/** The {@code prism} command line. Start it through the {@code prism} launcher script at the top level. */
@Command(name = "prism", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Small, fast, frequency-aware diffusion image generators; kernels in plain Java loops.",
        subcommands = {DevicesCommand.class, KernelsCommand.class, BenchCommand.class, SampleCommand.class, TrainCommand.class, EvalCommand.class, InfoCommand.class,
                ConvertCommand.class, FitKernelsCommand.class, DistillCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {

    /** Exit code for bad input: a wrong option value, a missing file. */
    public static final int EXIT_BAD_INPUT = 2;
    /** Exit code for a check that ran and found a problem. */
    public static final int EXIT_FAILED = 1;

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /**
     * Runs the command line with the given streams; returns the exit code. {@code more} are subcommands beside the
     * built-in ones: the commands of an optional module (apps/spark), whose launcher passes them.
     */
    public static int run(String[] args, PrintWriter out, PrintWriter err, Object... more) {
        CommandLine cl = new CommandLine(new Main());
        for (Object command : more) {
            cl.addSubcommand(command);
        }
        if (!cl.getSubcommands().containsKey("sample-many")) {
            // The Spark commands live in an optional module whose class path only the launcher assembles.
            cl.getCommandSpec().usageMessage().footer("",
                    "On Apache Spark (module apps/spark, docs/SPARK.md; ./prism runs them):",
                    "  sample-many  One image per seed for many seeds, and a manifest.",
                    "  eval-many    The Frechet distance over a sample-many manifest.");
        }
        cl.setOut(out);
        cl.setErr(err);
        // A repeated option takes its last value, as in most command lines.
        cl.setOverwrittenOptionsAllowed(true);
        // A number that does not parse: the option, the kind and range expected, and what was typed.
        cl.registerConverter(Integer.class, v -> number(v, "an integer from " + Integer.MIN_VALUE + " to " + Integer.MAX_VALUE, Integer::parseInt));
        cl.registerConverter(Integer.TYPE, v -> number(v, "an integer from " + Integer.MIN_VALUE + " to " + Integer.MAX_VALUE, Integer::parseInt));
        cl.registerConverter(Long.class, v -> number(v, "an integer from " + Long.MIN_VALUE + " to " + Long.MAX_VALUE, Long::parseLong));
        cl.registerConverter(Long.TYPE, v -> number(v, "an integer from " + Long.MIN_VALUE + " to " + Long.MAX_VALUE, Long::parseLong));
        cl.registerConverter(Double.class, v -> number(v, "a number", Double::parseDouble));
        cl.registerConverter(Double.TYPE, v -> number(v, "a number", Double::parseDouble));
        // A mistyped option or a missing value: one line that names it, and where the usage is.
        cl.setParameterExceptionHandler((ex, args1) -> {
            CommandLine c = ex.getCommandLine();
            String name = c.getCommandName();
            c.getErr().println("prism: " + ex.getMessage() + " (see prism " + (name.equals("prism") ? "" : name + " ") + "--help)");
            return EXIT_BAD_INPUT;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof IllegalArgumentException || ex instanceof java.io.UncheckedIOException) {
                // Bad input: one line that names the option or file, no stack trace (-Dprism.debug=true prints it).
                // Escaped: the line may quote names from a hostile file.
                cmd.getErr().println("prism: " + WeightFiles.printable(message(ex, cmd.getCommand())));
                if (Boolean.getBoolean("prism.debug")) {
                    ex.printStackTrace(cmd.getErr());
                }
                return EXIT_BAD_INPUT;
            }
            if (ex instanceof DeviceException) {
                // The device could not run the work: one line that names the kernel and the setting.
                cmd.getErr().println("prism: " + message(ex, cmd.getCommand()));
                if (Boolean.getBoolean("prism.debug")) {
                    ex.printStackTrace(cmd.getErr());
                }
                return EXIT_FAILED;
            }
            throw ex;
        });
        return cl.execute(args);
    }

    /** {@code parse(value)}, or picocli's conversion failure "expected <what>, found '<value>'". */
    private static <T> T number(String value, String what, java.util.function.Function<String, T> parse) {
        try {
            return parse.apply(value.trim());
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("expected " + what + ", found '" + value + "'");
        }
    }

    /**
     * The message of a library exception in the command line's words: an {@link ArgumentException} for a
     * parameter the command took from a flag names the flag; the TornadoVM backend's bailout setting is the
     * flag {@code --allow-bailout}.
     */
    static String message(Exception ex, Object command) {
        if (ex instanceof ArgumentException a && command instanceof LibraryNames names) {
            String flag = names.flags().get(a.argument());
            if (flag != null) {
                return a.messageAs(flag);
            }
        }
        String m = String.valueOf(ex.getMessage());
        return ex instanceof DeviceException ? m.replace(TornadoSettings.ALLOW_BAILOUT, "--allow-bailout") : m;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"prism " + (v != null ? v : "(development build)") + ", Java " + Runtime.version()};
        }
    }
}
