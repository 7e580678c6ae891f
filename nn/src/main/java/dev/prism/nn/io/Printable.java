package dev.prism.nn.io;

/**
 * Text that came from a file (tensor names, pickle globals, zip entry names, metadata), made safe to
 * print on a terminal: a name such as {@code "w<ESC>]0;pwned<BEL>"} must not retitle the window,
 * clear the screen or reorder the line it is printed in.
 *
 * <p>{@link #escape} replaces every character a terminal acts on instead of showing: Unicode
 * controls (C0, DEL, C1: ESC, BEL, CR, LF, TAB, CSI ...), format characters (the bidirectional
 * overrides U+202A–U+202E and isolates U+2066–U+2069, zero-width characters, tag characters), the
 * line and paragraph separators, and surrogates that are not part of a pair. Each becomes
 * {@code \xHH} (below U+0100), {@code &#92;uHHHH} or {@code &#92;U00HHHHHH}. Everything else, non-Latin
 * letters included, is kept. Backslashes are not doubled, so escaping is idempotent: an escaped
 * text escapes to itself, and a message built from escaped parts can be escaped again when printed.
 */
public final class Printable {
    /** The characters of a name kept in an error message; longer names are cut (see {@link #name}). */
    public static final int NAME_LIMIT = 200;

    private Printable() {
    }

    /** {@code text} with every character a terminal would act on written as an escape (see the class comment). */
    public static String escape(String text) {
        if (text == null) {
            return "null";
        }
        int i = 0;
        while (i < text.length() && !unsafe(text, i)) {
            i += Character.charCount(text.codePointAt(i));
        }
        if (i == text.length()) {
            return text;
        }
        StringBuilder b = new StringBuilder(text.length() + 16).append(text, 0, i);
        while (i < text.length()) {
            int cp = text.codePointAt(i);
            if (unsafe(text, i)) {
                if (cp < 0x100) {
                    b.append(String.format("\\x%02x", cp));
                } else if (cp < 0x10000) {
                    b.append(String.format("\\u%04x", cp));
                } else {
                    b.append(String.format("\\U%08x", cp));
                }
            } else {
                b.appendCodePoint(cp);
            }
            i += Character.charCount(cp);
        }
        return b.toString();
    }

    /**
     * A name for an error message: {@link #escape escaped}, and if longer than {@link #NAME_LIMIT}
     * characters, cut there with its length appended ({@code "aaaa... (5000000 characters)"}), so a
     * hostile file cannot turn one error line into megabytes.
     */
    public static String name(String text) {
        if (text == null) {
            return "null";
        }
        if (text.length() <= NAME_LIMIT) {
            return escape(text);
        }
        int cut = NAME_LIMIT;
        if (Character.isHighSurrogate(text.charAt(cut - 1))) {
            cut--;
        }
        return escape(text.substring(0, cut)) + "... (" + text.length() + " characters)";
    }

    private static boolean unsafe(String s, int i) {
        int cp = s.codePointAt(i);
        if (cp >= 0x20 && cp < 0x7f) {
            return false;
        }
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                 Character.SURROGATE -> true;
            default -> false;
        };
    }
}
