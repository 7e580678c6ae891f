package dev.prism.kernels;

/**
 * The vector width of the JVM backend's hand-vectorised kernel variants: 128, 256 or 512 bits, from the
 * system property {@value #PROPERTY} (or {@link #pin}, which the command line's {@code --vector-bits}
 * calls), else the widest float vector this JVM compiles to machine instructions.
 *
 * <p>Every variant takes its species from {@link VectorMath#FLOAT} / {@link VectorMath#DOUBLE}, which read
 * {@link #bits()} once, when the first variant class initialises; from then on the width is fixed for
 * the life of the JVM (a {@code static final} species is what C2 needs to compile Vector API code into
 * vector instructions). A width wider than the machine's runs correctly but emulated, element by element in
 * Java, many times slower: the tests use that to check every width on any machine, and
 * {@link #describe()} says so.
 *
 * <p>This class does not link against {@code jdk.incubator.vector}: it answers whether the module is
 * present and which width applies with reflection, so that a JVM started without the module can ask
 * without failing, and no variant class loads until a launch runs it.
 */
public final class VectorWidth {
    /** The system property that pins the width: {@code 128}, {@code 256} or {@code 512}. */
    public static final String PROPERTY = "prism.vector.bits";
    /** The widths a variant is written and tested for. */
    private static final int[] WIDTHS = {128, 256, 512};
    private static final String MODULE = "jdk.incubator.vector";

    /** The width in force once resolved; guarded by the class lock. */
    private static int resolved;
    /** Where {@link #resolved} came from, for messages. */
    private static String source;

    private VectorWidth() {
    }

    /** True when this JVM has the Vector API module ({@code --add-modules jdk.incubator.vector}). */
    public static boolean modulePresent() {
        return ModuleLayer.boot().findModule(MODULE).isPresent();
    }

    /**
     * The widest float vector, in bits, that this JVM compiles to machine instructions here
     * ({@code VectorShape.preferredShape()}): 512 on AVX-512, 256 on AVX2 (or with {@code -XX:UseAVX=2}),
     * 128 on NEON.
     *
     * @throws IllegalStateException when the Vector API module is absent
     */
    public static int preferredBits() {
        if (!modulePresent()) {
            throw new IllegalStateException("the JVM backend's vector variants need the Vector API: start the JVM with --add-modules "
                    + MODULE);
        }
        try {
            Class<?> shape = Class.forName(MODULE + ".VectorShape", true, ModuleLayer.boot().findLoader(MODULE));
            Object preferred = shape.getMethod("preferredShape").invoke(null);
            return (Integer) shape.getMethod("vectorBitSize").invoke(preferred);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot ask " + MODULE + " for its preferred shape", e);
        }
    }

    /**
     * The width the variants use: fixed on the first call (from {@value #PROPERTY} when set, else
     * {@link #preferredBits()}), the same on every later call.
     *
     * @throws IllegalArgumentException when {@value #PROPERTY} holds anything but 128, 256 or 512
     */
    public static synchronized int bits() {
        if (resolved == 0) {
            String value = System.getProperty(PROPERTY);
            if (value != null) {
                resolved = parse(value, "system property " + PROPERTY);
                source = "-D" + PROPERTY + "=" + value.strip();
            } else {
                resolved = preferredBits();
                source = "this machine's widest";
            }
        }
        return resolved;
    }

    /**
     * Fixes the width before any variant has run, as {@code --vector-bits} does: {@code option} names
     * where the value came from, for the messages.
     *
     * @throws IllegalArgumentException when {@code bits} is not 128, 256 or 512
     * @throws IllegalStateException    when the width was already fixed at another value (a variant ran, or
     *                                  {@link #bits()} was asked, before the option was read)
     */
    public static synchronized void pin(int bits, String option) {
        check(bits, option);
        if (resolved != 0 && resolved != bits) {
            throw new IllegalStateException(option + " " + bits + ": the vector variants already run at " + resolved
                    + " bits (" + source + "), fixed when the first one loaded; set the width before any kernel runs");
        }
        resolved = bits;
        source = option;
    }

    /** True when {@link #bits()} is wider than the machine's widest vectors, so the variants run emulated, very slowly. */
    public static boolean emulated() {
        return bits() > preferredBits();
    }

    /** For descriptions and benchmark headers: {@code "512-bit vectors"}, with {@code ", emulated (...)"} when {@link #emulated()}. */
    public static String describe() {
        int b = bits();
        int p = preferredBits();
        return b + "-bit vectors" + (b > p ? ", emulated (this machine's widest are " + p + "-bit, many times slower)" : "");
    }

    /**
     * {@code value} as a width.
     *
     * @throws IllegalArgumentException naming {@code what}, the expected and the found value, unless it is 128, 256 or 512
     */
    public static int parse(String value, String what) {
        int b;
        try {
            b = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " expected 128, 256 or 512 (vector bits), found '" + value + "'");
        }
        return check(b, what);
    }

    private static int check(int bits, String what) {
        for (int w : WIDTHS) {
            if (w == bits) {
                return bits;
            }
        }
        throw new IllegalArgumentException(what + " expected 128, 256 or 512 (vector bits), found '" + bits + "'");
    }
}
