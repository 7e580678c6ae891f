package dev.prism.cli;

import dev.prism.io.PngImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SampleCommandTest {
    static Path weights() throws Exception {
        return Path.of(SampleCommandTest.class.getResource("/models/unet-standard.safetensors").toURI());
    }

    static CliTest.Result sample(String... extra) throws Exception {
        String[] base = {"sample", "--weights", weights().toString(), "--size", "8", "--batch", "3", "--steps", "4", "--threads", "2"};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return BenchCommandTest.run(args);
    }

    @Test
    void samplingWritesAGridWithItsParametersAndOneFilePerImage(@TempDir Path dir) throws Exception {
        Path grid = dir.resolve("grid.png");
        Path each = Files.createDirectory(dir.resolve("each"));
        CliTest.Result r = sample("--seed", "7", "--out", grid.toString(), "--per-image-dir", each.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("backend: jvm"), r.out());
        assertTrue(r.err().contains("step 4/4"), "progress over steps: " + r.err());
        Map<String, String> text = PngImages.readText(grid);
        assertEquals("unet", text.get("model"));
        assertEquals("7", text.get("seed"));
        assertEquals("4", text.get("steps"));
        assertEquals(SampleCommand.sha256(weights()), text.get("weights_sha256"));
        assertTrue(text.get("sampler").startsWith("ddim(steps=4"), text.toString());
        assertTrue(text.get("backend").startsWith("jvm"), text.toString());
        try (var files = Files.list(each)) {
            assertEquals(3, files.count());
        }
    }

    @Test
    void theHelpStatesWhatASeedReproducesWithTheTestedBound() {
        CliTest.Result r = BenchCommandTest.run("sample", "--help");
        assertEquals(0, r.code());
        String help = r.out().replaceAll("\\s+", " ");
        assertTrue(help.contains(SampleCommand.REPRODUCIBILITY), help);
        // the bound it names is the one SampleReferenceTest holds every backend to
        assertTrue(SampleCommand.REPRODUCIBILITY.contains("bound at " + SampleReferenceTest.LEVELS + ")"), SampleCommand.REPRODUCIBILITY);
    }

    @Test
    void theSamplingPageQuotesTheSamePromise() throws Exception {
        // the module's tests run in apps/; docs/SAMPLING.md's quote is one block of "> " lines
        String quote = Files.readAllLines(Path.of("..", "docs", "SAMPLING.md")).stream().filter(l -> l.startsWith("> "))
                .map(l -> l.substring(2)).reduce((a, b) -> a + " " + b).orElse("");
        assertTrue(quote.contains(SampleCommand.REPRODUCIBILITY), quote);
    }

    @Test
    void badInputEndsWithOneLineNamingTheOptionExitCode2AndNoOutput(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("grid.png");
        String o = out.toString();
        check(sample("--out", o, "--batch", "0"), "prism: --batch expected >= 1, found 0");
        check(sample("--out", o, "--steps", "1001"), "prism: --steps expected 1 to T = 1000, found 1001");
        check(sample("--out", o, "--sampler", "ddpm", "--steps", "50"),
                "prism: --steps for ddpm expected 1000 (ancestral sampling visits every timestep; use --sampler ddim for fewer), found 50");
        check(sample("--out", dir.resolve("no/such/dir/g.png").toString()),
                "prism: --out " + dir.resolve("no/such/dir/g.png") + ": directory " + dir.resolve("no/such/dir") + " does not exist");
        check(sample("--out", dir.toString()), "prism: --out " + dir + ": expected a regular file or a new path, found a directory");
        check(sample("--out", o, "--size", "9"), "prism: --size expected a height and width divisible by 2 (the UNet downsamples 1 times), found 9x9");
        check(sample("--out", o, "--size", "8x"), "prism: --size expected H or HxW with positive integers, found '8x'");
        check(sample("--out", o, "--model", "wg-unet"),
                "prism: --weights " + weights() + " holds a 'unet' model, --model says 'wg-unet'");
        check(sample("--out", o, "--config", "width=16"), null);
        check(BenchCommandTest.run("sample", "--weights", dir.resolve("missing.safetensors").toString(), "--out", o),
                "prism: --weights " + dir.resolve("missing.safetensors") + ": no such file");
        check(sample("--out", o, "--per-image-dir", dir.resolve("nope").toString()),
                "prism: --per-image-dir " + dir.resolve("nope") + " does not exist");
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "no partial output may be left behind");
        }
    }

    /** Exit code 2 and one line; {@code expected} null only checks that the line names the weights file. */
    private static void check(CliTest.Result r, String expected) throws Exception {
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        if (expected != null) {
            assertEquals(expected, r.err().strip());
        } else {
            assertTrue(r.err().startsWith("prism: " + weights() + ": "), r.err());
        }
        assertFalse(r.err().contains("Exception"), r.err());
    }
}
