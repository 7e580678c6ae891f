package dev.prism.backend;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The package boundaries that docs/DEVELOPMENT.md states: the kernels use only {@code Launch} and
 * {@code Lanes} of the runtime, and the runtime names no kernel family. Read from the sources, so a new
 * import across the line fails here.
 */
class PackagesTest {
    private static final Path MAIN = Path.of("src/main/java/dev/prism");
    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?(dev\\.prism\\.[\\w.]+);", Pattern.MULTILINE);
    private static final Pattern QUALIFIED = Pattern.compile("\\bdev\\.prism\\.(kernels|backend)\\.([A-Z]\\w*)");

    @Test
    void kernelsUseOnlyLaunchAndLanesOfTheRuntime() throws IOException {
        List<String> bad = crossings(MAIN.resolve("kernels"), false, "dev.prism.backend.",
                Set.of("dev.prism.backend.Launch", "dev.prism.backend.Lanes"));
        assertEquals(List.of(), bad, "kernels package importing runtime classes other than Launch and Lanes");
    }

    @Test
    void runtimeNamesNoKernelFamily() throws IOException {
        List<String> bad = crossings(MAIN.resolve("backend"), true, "dev.prism.kernels.",
                Set.of("dev.prism.kernels.KernelRegistry", "dev.prism.kernels.Parallel", "dev.prism.kernels.VectorWidth",
                        "dev.prism.kernels.ArgumentException"));
        assertEquals(List.of(), bad, "runtime package naming kernel classes");
    }

    @Test
    void theScanSeesTheSources() throws IOException {
        // Guards the two tests above against passing on an empty or moved source tree.
        assertTrue(sources(MAIN.resolve("kernels"), false).size() > 40, "kernel sources found");
        assertTrue(sources(MAIN.resolve("backend"), true).stream().anyMatch(p -> p.endsWith("Launch.java")), "Launch.java found");
    }

    private static List<String> crossings(Path dir, boolean recurse, String prefix, Set<String> allowed) throws IOException {
        List<String> bad = new ArrayList<>();
        for (Path file : sources(dir, recurse)) {
            String text = Files.readString(file);
            Matcher m = IMPORT.matcher(text);
            while (m.find()) {
                if (m.group(1).startsWith(prefix) && !allowed.contains(m.group(1))) {
                    bad.add(file.getFileName() + ": import " + m.group(1));
                }
            }
            // code only: the comments may name classes of either package as examples
            String code = text.replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\n]*", "").replaceAll("(?m)^import .*$", "");
            Matcher q = QUALIFIED.matcher(code);
            while (q.find()) {
                String name = "dev.prism." + q.group(1) + "." + q.group(2);
                if (name.startsWith(prefix) && !allowed.contains(name)) {
                    bad.add(file.getFileName() + ": " + name);
                }
            }
        }
        return bad;
    }

    private static List<Path> sources(Path dir, boolean recurse) throws IOException {
        try (Stream<Path> s = recurse ? Files.walk(dir) : Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".java") && !p.endsWith("package-info.java")).sorted().toList();
        }
    }
}
