package dev.prism.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine.Option;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;

/** The Spark options of prism sample-many and eval-many: where the work runs, in how many parts. */
public final class SparkOptions {
    @Option(names = "--master", defaultValue = "local[*]", paramLabel = "URL",
            description = "Spark master: local[*] (embedded, all cores; default), local[N], local-cluster[E,C,MB] (E executor processes on this "
                    + "machine), spark://HOST:PORT, k8s://..., yarn.")
    public String master;

    @Option(names = "--partitions", paramLabel = "P",
            description = "Parts the work is split into (default: Spark's default parallelism, one per task slot).")
    public Integer partitions;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "A Spark setting (repeatable), e.g. spark.task.cpus=2.")
    public List<String> conf;

    /** Checks what can be checked before Spark starts. */
    public void check() {
        if (master == null || master.isBlank()) {
            throw new IllegalArgumentException("--master expected a Spark master URL (local[*], spark://HOST:PORT, ...), found '" + master + "'");
        }
        if (partitions != null && partitions < 1) {
            throw new IllegalArgumentException("--partitions expected >= 1, found " + partitions);
        }
        if (conf != null) {
            for (String kv : conf) {
                int eq = kv.indexOf('=');
                if (eq < 1 || !kv.startsWith("spark.")) {
                    throw new IllegalArgumentException("--conf expected spark.KEY=VALUE, found '" + kv + "'");
                }
            }
        }
    }

    /**
     * Starts Spark: the master, no web UI unless asked for, and, for a
     * {@code local-cluster} master, the executors' class path (this module's classes; Spark and the library
     * come from {@code SPARK_HOME/jars}).
     */
    public JavaSparkContext start(String appName) {
        check();
        SparkConf c = new SparkConf().setMaster(master).setAppName(appName);
        c.setIfMissing("spark.ui.enabled", "false");
        if (conf != null) {
            for (String kv : conf) {
                int eq = kv.indexOf('=');
                c.set(kv.substring(0, eq), kv.substring(eq + 1));
            }
        }
        // Spark adds its JDK module options (--add-opens ..., and --add-modules jdk.incubator.vector, which the jvm backend's
        // variants need) to every executor's command line itself.
        if (master.startsWith("local-cluster")) {
            if (System.getenv("SPARK_HOME") == null) {
                throw new IllegalArgumentException("--master " + master + " starts executor processes with SPARK_HOME/jars on their class path: "
                        + "set SPARK_HOME and SPARK_SCALA_VERSION=2.13 (the prism launcher sets them, SPARK_HOME to apps/spark/target/spark-home)");
            }
            c.setIfMissing("spark.executor.extraClassPath", ownClassPath());
        }
        return new JavaSparkContext(c);
    }

    /** The number of parts: --partitions, else Spark's default parallelism. */
    public int partitions(JavaSparkContext sc) {
        return partitions != null ? partitions : Math.max(1, sc.defaultParallelism());
    }

    /** Where this module's classes are: its jar, or its classes folder in a build. */
    static String ownClassPath() {
        try {
            return Path.of(SparkOptions.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
