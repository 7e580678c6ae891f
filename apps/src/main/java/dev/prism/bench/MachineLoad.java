package dev.prism.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * How much processor time other processes took while a benchmark ran, from Linux's {@code /proc}: the machine's
 * busy time (user, nice, system, irq, softirq and steal in {@code /proc/stat}) less this process's own time and
 * that of the children it waited for (the PyTorch peer), in {@code /proc/self/stat}.
 *
 * <p>Why it matters: the JVM backend splits each launch across a team of threads; when another process holds
 * one of the machine's processors, the team's share shrinks and every kernel slows down together (on a 2-core
 * machine, about 2×), which a benchmark would otherwise report as Prism's own speed. Both files count in the
 * same clock ticks, and the machine's total (idle included) is the wall time times the processor count, so the
 * share needs no tick rate.
 */
public final class MachineLoad {
    /** Above this share of one processor, other processes' time is reported as a warning. */
    public static final double WARN_SHARE = 0.10;

    private final long busy0;
    private final long total0;
    private final long own0;
    private final int processors;

    private MachineLoad(long[] machine, long own, int processors) {
        this.busy0 = machine[0];
        this.total0 = machine[1];
        this.own0 = own;
        this.processors = processors;
    }

    /** Starts a measurement, or returns null where {@code /proc} cannot be read (not Linux). */
    public static MachineLoad start() {
        try {
            return new MachineLoad(machine(Files.readAllLines(Path.of("/proc/stat"))), own(Files.readString(Path.of("/proc/self/stat"))),
                    Runtime.getRuntime().availableProcessors());
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** What other processes took since {@link #start()}. */
    public Result stop() {
        try {
            long[] m = machine(Files.readAllLines(Path.of("/proc/stat")));
            long own = own(Files.readString(Path.of("/proc/self/stat")));
            return result(m[0] - busy0, m[1] - total0, own - own0, processors);
        } catch (IOException e) {
            throw new IllegalStateException("reading /proc for the machine's load: " + e.getMessage(), e);
        }
    }

    static Result result(long busy, long total, long own, int processors) {
        long other = Math.max(0, busy - own);
        // total ticks = wall × rate × processors: one processor's ticks over the run are total / processors.
        double oneProcessor = (double) total / processors;
        return new Result(other, oneProcessor, total > 0 ? other / oneProcessor : 0);
    }

    /** {@code {busy, total}} ticks from the first line of {@code /proc/stat}. */
    static long[] machine(List<String> procStat) {
        String cpu = procStat.stream().filter(l -> l.startsWith("cpu ")).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("/proc/stat has no 'cpu ' line"));
        String[] f = cpu.trim().split("\\s+");
        if (f.length < 9) {
            throw new IllegalArgumentException("/proc/stat 'cpu' line expected at least 8 counters, found " + (f.length - 1));
        }
        long user = Long.parseLong(f[1]), nice = Long.parseLong(f[2]), system = Long.parseLong(f[3]), idle = Long.parseLong(f[4]);
        long iowait = Long.parseLong(f[5]), irq = Long.parseLong(f[6]), softirq = Long.parseLong(f[7]), steal = Long.parseLong(f[8]);
        long busy = user + nice + system + irq + softirq + steal;
        return new long[] {busy, busy + idle + iowait};
    }

    /** This process's user + system ticks plus those of its waited-for children, from {@code /proc/self/stat}. */
    static long own(String procSelfStat) {
        // The command name (field 2) may hold spaces and parentheses: the fields after it follow the last ')'.
        String[] f = procSelfStat.substring(procSelfStat.lastIndexOf(')') + 2).trim().split("\\s+");
        // Fields 14 to 17 of proc(5) (utime, stime, cutime, cstime) are 11 to 14 here, counted from field 3.
        return Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
    }

    /**
     * Other processes' ticks over the run, one processor's ticks over the run, and their ratio: 1.0 means other
     * processes kept one processor busy for the whole run.
     */
    public record Result(long otherTicks, double oneProcessorTicks, double share) {
        /** True where the share is above {@link #WARN_SHARE}. */
        public boolean disturbing() {
            return share > WARN_SHARE;
        }

        /** One line for the benchmark's output. */
        public String describe() {
            String line = String.format(java.util.Locale.ROOT, "machine load: other processes used %.0f%% of one processor during this run", 100 * share);
            return disturbing()
                    ? "warning: " + line + "; they took processor time from the jvm backend's threads, so these timings are too slow"
                      + " (measure on an otherwise idle machine)"
                    : line;
        }
    }
}
