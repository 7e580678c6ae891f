package dev.prism.cli;

import dev.prism.diffusion.SamplingLoop;
import dev.prism.diffusion.UNetDenoiser;
import dev.prism.io.PngImages;
import dev.prism.nn.io.WeightFile;
import dev.prism.nn.models.Models;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;

/**
 * Run in a JVM of its own with a small heap by {@link HostileInputTest}: finds the largest batch that
 * {@code prism sample} accepts for {@code WEIGHTS} at 8×8 in this heap (the check the command runs:
 * {@link SamplingLoop#checkHeap} with the grid's bytes per image), then runs the command with one image
 * more (refused) and with that batch (must sample and write the grid without an OutOfMemoryError). Prints
 * {@code batch <B> refused <exit> accepted <exit>}.
 */
public final class HeapBoundaryMain {
    private HeapBoundaryMain() {
    }

    public static void main(String[] args) throws Exception {
        Path weights = Path.of(args[0]), out = Path.of(args[1]);
        Map<String, String> meta;
        try (WeightFile wf = WeightFile.open(weights)) {
            meta = wf.metadata();
        }
        Models.Built built = Models.structure(meta.get("model"), Models.fromJson(meta.get("options")));
        UNetDenoiser d = new UNetDenoiser(built.unet(), 8, 8);
        long extra = PngImages.gridBytesPerImage(1, 8, 8, PngImages.DEFAULT_MARGIN);
        int lo = 1, hi = 1 << 22;   // accepted, refused
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            try {
                SamplingLoop.checkHeap(d, mid, extra);
                lo = mid;
            } catch (IllegalArgumentException e) {
                hi = mid;
            }
        }
        d = null;
        built = null;
        PrintWriter quiet = new PrintWriter(PrintWriter.nullWriter());
        PrintWriter err = new PrintWriter(System.err, true);
        String[] base = {"sample", "--weights", weights.toString(), "--size", "8", "--steps", "2", "--threads", "2", "--out", out.toString()};
        int refused = Main.run(with(base, "--batch", String.valueOf(lo + 1)), quiet, err);
        int accepted = Main.run(with(base, "--batch", String.valueOf(lo)), quiet, err);
        System.out.println("batch " + lo + " refused " + refused + " accepted " + accepted);
        System.exit(0);
    }

    private static String[] with(String[] base, String... more) {
        String[] all = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }
}
