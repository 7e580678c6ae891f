package dev.prism.kernels;

/**
 * A value given to a library method is unusable: the message names the method's parameter as the Java
 * caller knows it ({@code model}, {@code options}, {@code size}, {@code backend}) and says what was expected
 * and what was found. A caller that took the value under another name, such as a command-line flag, can say
 * the same with its own name through {@link #messageAs(String)}.
 */
public class ArgumentException extends IllegalArgumentException {
    private final String argument;
    private final String detail;

    /**
     * The message is {@code argument + " " + detail}.
     *
     * @param argument the parameter's name in the library's API
     * @param detail   the rest of the message: what was expected and what was found
     */
    public ArgumentException(String argument, String detail) {
        super(argument + " " + detail);
        this.argument = argument;
        this.detail = detail;
    }

    /** {@code "<argument> expected <expected>, found <found>"}. */
    public static ArgumentException expected(String argument, String expected, Object found) {
        return new ArgumentException(argument, "expected " + expected + ", found " + found);
    }

    /** The parameter's name in the library's API. */
    public String argument() {
        return argument;
    }

    /** The message without the parameter's name. */
    public String detail() {
        return detail;
    }

    /** The message with the parameter called {@code name} (a command line passes its flag, such as --model). */
    public String messageAs(String name) {
        return name + " " + detail;
    }
}
