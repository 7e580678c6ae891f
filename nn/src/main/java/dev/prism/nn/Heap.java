package dev.prism.nn;

import dev.prism.kernels.ArgumentException;

import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * What a computation will hold on the Java heap, checked before it allocates anything, so that a batch, a
 * size or a model too large for the heap ends with a {@link HeapException} that names the parameter,
 * instead of an {@link OutOfMemoryError} after the work has started.
 *
 * <p>The check compares the bytes the arrays will occupy with {@link #usable()}: {@value #USABLE_PERCENT} % of
 * {@link Runtime#maxMemory()} (the {@code -Xmx}). The rest is left for what the estimate does not count: the
 * collector's working room, the JVM's own objects, the JVM kernels' per-thread scratch. An array's bytes are
 * its elements plus a 16-byte header, and under the G1 collector an array larger than half a heap region
 * (a "humongous" object) occupies whole regions, so it is rounded up to them.
 */
public final class Heap {
    /** The share of the heap that a check lets the arrays of one computation take, in percent. */
    public static final int USABLE_PERCENT = 80;

    /** The largest array a JVM allocates (a few elements less than Integer.MAX_VALUE on HotSpot). */
    public static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    private static final long ARRAY_HEADER = 16;
    private static final long REGION = g1RegionBytes();

    private Heap() {
    }

    /** The heap's maximum size, {@code -Xmx}. */
    public static long max() {
        return Runtime.getRuntime().maxMemory();
    }

    /** The bytes one computation's arrays may take: {@value #USABLE_PERCENT} % of {@link #max()}. */
    public static long usable() {
        return max() / 100 * USABLE_PERCENT;
    }

    /**
     * The heap bytes of a {@code float[]} of {@code length} elements: header and data, rounded up to whole G1
     * regions when it is humongous. Saturates at {@link Long#MAX_VALUE}.
     */
    public static long floatArrayBytes(long length) {
        if (length < 0 || length > (Long.MAX_VALUE - ARRAY_HEADER - REGION) / Float.BYTES) {
            return Long.MAX_VALUE;
        }
        long bytes = ARRAY_HEADER + length * Float.BYTES;
        if (REGION > 0 && bytes > REGION / 2) {
            bytes = (bytes + REGION - 1) / REGION * REGION;
        }
        return bytes;
    }

    /** The heap bytes of float arrays of these lengths ({@link #floatArrayBytes} each), saturating. */
    public static long floatArraysBytes(long... lengths) {
        long sum = 0;
        for (long l : lengths) {
            sum = saturatedAdd(sum, floatArrayBytes(l));
        }
        return sum;
    }

    /** {@code a + b}, or {@link Long#MAX_VALUE} when that overflows. */
    public static long saturatedAdd(long a, long b) {
        long s = a + b;
        return ((a ^ s) & (b ^ s)) < 0 ? Long.MAX_VALUE : s;
    }

    /**
     * Fails unless arrays of {@code bytes} in all fit in {@link #usable()}.
     *
     * @param argument the parameter to lower, in the library's words ({@code batch}, {@code size}, {@code options})
     * @param found    its value, as the message shows it
     * @param what     what needs the memory, e.g. "sampling 100000 images of 1x8x8 with model unet"
     * @throws HeapException naming {@code argument}, with the bytes needed and the heap's size
     */
    public static void require(String argument, Object found, String what, long bytes) {
        if (bytes > usable()) {
            throw new HeapException(argument, found, what, bytes);
        }
    }

    /**
     * Fails unless an array of {@code length} elements can exist.
     *
     * @param array the array, as the message names it: "the largest array of the sampling plan"
     *
     * @throws ArgumentException naming {@code argument}, the array and its length
     */
    public static void requireArray(String argument, Object found, String array, long length) {
        if (length > MAX_ARRAY) {
            throw ArgumentException.expected(argument, "a value for which every array holds at most " + MAX_ARRAY
                    + " elements (the largest Java array)", found + " (" + array + " would hold "
                    + (length == Long.MAX_VALUE ? "more than " + Long.MAX_VALUE : String.valueOf(length)) + ")");
        }
    }

    /** Bytes as people read them: {@code 38.2 GiB}, {@code 512.0 MiB}, {@code 900 bytes}. */
    public static String format(long bytes) {
        if (bytes == Long.MAX_VALUE) {
            return "more than 8 EiB";
        }
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        }
        if (bytes >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
        }
        if (bytes >= 1L << 10) {
            return String.format(Locale.ROOT, "%.1f KiB", bytes / (double) (1L << 10));
        }
        return bytes + " bytes";
    }

    /** G1's region size in bytes, or 0 under another collector (or when the JVM does not say). */
    private static long g1RegionBytes() {
        try {
            boolean g1 = ManagementFactory.getGarbageCollectorMXBeans().stream().anyMatch(b -> b.getName().startsWith("G1"));
            if (!g1) {
                return 0;
            }
            var hotspot = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            return Long.parseLong(hotspot.getVMOption("G1HeapRegionSize").getValue());
        } catch (RuntimeException | LinkageError e) {
            // Not HotSpot: no region rounding; the usable share still leaves room.
            return 0;
        }
    }

    /**
     * A computation needs more heap than {@link #usable()}: the message says how much, how large the heap is,
     * and which parameter to lower.
     */
    public static final class HeapException extends ArgumentException {
        private final transient Object found;
        private final String what;
        private final long bytes;

        HeapException(String argument, Object found, String what, long bytes) {
            super(argument, detail(found, what, bytes, "lower " + argument + " or raise -Xmx"));
            this.found = found;
            this.what = what;
            this.bytes = bytes;
        }

        private static String detail(Object found, String what, long bytes, String remedy) {
            return found + ": " + what + " needs " + format(bytes) + ", heap is " + format(max()) + " (arrays may take "
                    + USABLE_PERCENT + " % of it); " + remedy;
        }

        /** The bytes the computation needs. */
        public long bytes() {
            return bytes;
        }

        @Override
        public String messageAs(String name) {
            return messageAs(name, "lower " + name + " or raise -Xmx");
        }

        /** The message with the parameter called {@code name} and {@code remedy} as the advice that ends it. */
        public String messageAs(String name, String remedy) {
            return name + " " + detail(found, what, bytes, remedy);
        }
    }
}
