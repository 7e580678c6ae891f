package dev.prism.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** A plain-text table with columns sized to their widest cell; columns named in {@link #right} align right. */
final class Table {
    private final List<String[]> rows = new ArrayList<>();
    private final String[] header;
    private final boolean[] right;

    Table(String... header) {
        this.header = header;
        this.right = new boolean[header.length];
    }

    /** Aligns the given columns (numbers) to the right. */
    Table right(int... columns) {
        for (int c : columns) {
            right[c] = true;
        }
        return this;
    }

    void add(Object... cells) {
        String[] r = new String[header.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = i < cells.length && cells[i] != null ? cells[i].toString() : "";
        }
        rows.add(r);
    }

    void print(PrintWriter out) {
        print(out, header, right, rows);
    }

    /**
     * Prints a table whose rows are read from {@code rows} twice, once for the column widths and once to print
     * them, so that they need not all be held in memory (a weight file's million tensors).
     */
    static void print(PrintWriter out, String[] header, boolean[] right, Iterable<String[]> rows) {
        int[] w = new int[header.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = header[i].length();
        }
        for (String[] r : rows) {
            for (int i = 0; i < w.length; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        line(out, header, w, right);
        StringBuilder rule = new StringBuilder();
        for (int i = 0; i < w.length; i++) {
            rule.append(i == 0 ? "" : "  ").append("-".repeat(w[i]));
        }
        out.println(rule);
        for (String[] r : rows) {
            line(out, r, w, right);
        }
        out.flush();
    }

    private static void line(PrintWriter out, String[] cells, int[] w, boolean[] right) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            if (i > 0) {
                b.append("  ");
            }
            String c = cells[i];
            String pad = " ".repeat(w[i] - c.length());
            b.append(right[i] ? pad + c : c + pad);
        }
        out.println(b.toString().stripTrailing());
    }
}
