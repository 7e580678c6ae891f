package dev.prism.io;

import java.nio.file.Path;

/**
 * Run in a JVM of its own by {@link OutputFilesTest}: stages a grid and two per-image files in the directory
 * given, says so on stdout, and waits to be interrupted before it commits.
 */
public final class OutputFilesChild {
    private OutputFilesChild() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        OutputFiles files = new OutputFiles();
        files.add(dir.resolve("grid.png"), new byte[] {1, 2, 3});
        files.add(dir.resolve("sample-000.png"), new byte[] {4});
        files.add(dir.resolve("sample-001.png"), new byte[] {5});
        System.out.println("staged");
        System.out.flush();
        Thread.sleep(60_000);
        files.commit();
    }
}
