package dev.prism.spark;

import dev.prism.cli.EvalManyCommand;
import dev.prism.cli.Main;
import dev.prism.cli.SampleManyCommand;

import java.io.PrintWriter;

/**
 * The prism command line with the Spark commands, {@code sample-many} and {@code eval-many}, beside the others; the
 * launcher starts it for those two, with Spark on the class path, and {@link Main} for every other command.
 */
public final class SparkCli {
    private SparkCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams; returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        return Main.run(args, out, err, new SampleManyCommand(), new EvalManyCommand());
    }
}
