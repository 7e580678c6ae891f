package dev.prism.cli;

import dev.prism.nn.Parameter;
import dev.prism.nn.io.WeightFile;
import dev.prism.nn.models.Models;
import dev.prism.nn.train.Checkpoint;
import dev.prism.testing.Arrays32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code prism fit-kernels} and fine-tuning its output with {@code prism train --init}, on a tiny UNet. */
class FitKernelsCommandTest {

    /** A tiny UNet trained two steps by prism train: its ema.safetensors. */
    private static Path trained(Path dir) throws Exception {
        Path data = TrainCommandTest.images(dir, 7);
        Path run = dir.resolve("run");
        CliTest.Result r = TrainCommandTest.run(TrainCommandTest.fresh(data, run, 2, "constant", 2, 0));
        assertEquals(0, r.code(), r.out() + r.err());
        return run.resolve("ema.safetensors");
    }

    private static Map<String, String> metadata(Path file) {
        try (WeightFile wf = WeightFiles.open(file)) {
            return wf.metadata();
        }
    }

    @Test
    void theCompressedFileLoadsAsTheSeriesModelAndFineTunesFromItsWeights(@TempDir Path dir) throws Exception {
        Path weights = trained(dir);
        Path out = dir.resolve("compressed.safetensors");
        CliTest.Result r = CliTest.run("fit-kernels", "--weights", weights.toString(), "--basis", "cheb", "--orders", "3,2", "--out", out.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        // levels of width 8: a hidden 3×3 convolution has 8·8·9 = 576 parameters, 8·8·4 = 256 at order 2
        assertTrue(r.out().lines().anyMatch(l -> l.matches("down\\.0\\.res\\.0\\.conv1\\.coeff +\\[8,8,3,3] +3 +576 +576 .*")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("down\\.1\\.res\\.0\\.conv1\\.coeff +\\[8,8,3,3] +2 +576 +256 .*")), r.out());
        assertTrue(r.out().contains("14 convolutions: 8,064 -> 5,184 parameters (64.3 %)"), r.out());
        assertTrue(r.out().contains("wrote " + out + " (unet, chebconv, order=3,2)"), r.out());
        Map<String, String> meta = metadata(out);
        Map<String, String> options = Models.fromJson(meta.get("options"));
        assertEquals("chebconv", options.get("conv"));
        assertEquals("3,2", options.get("order"));
        assertEquals("ema.safetensors", meta.get("compressed_from"));
        // prism info loads it strictly into the model its metadata names
        CliTest.Result info = CliTest.run("info", "--model", "unet", "--config", "width=8,levels=2,attn=2,groups=4,conv=chebconv,order=3,2",
                out.toString());
        assertEquals(0, info.code(), info.out() + info.err());

        // fine-tuning starts from the file's weights: at a learning rate too small to move a float, the EMA weights
        // after a step are the compressed weights
        Path tuned = dir.resolve("tuned");
        CliTest.Result t = CliTest.run("train", "--init", out.toString(), "--data", dir.resolve("images").toString(), "--size", "8",
                "--steps", "1", "--batch", "3", "--lr", "1e-30", "--warmup", "0", "--ema", "0.9", "--timesteps", "50", "--seed", "5",
                "--checkpoint-every", "1", "--sample-every", "0", "--threads", "2", "--out", tuned.toString());
        assertEquals(0, t.code(), t.out() + t.err());
        long count = Models.structure("unet", options).module().parameterCount();
        assertTrue(t.out().contains(String.format("training unet (%,d parameters)", count)), t.out());
        assertEquals(out.toString(), Checkpoint.header(tuned.resolve("checkpoint.safetensors")).state().get("init"));
        assertEquals(Models.fromJson(meta.get("options")), Models.fromJson(metadata(tuned.resolve("ema.safetensors")).get("options")));
        Models.Built a = Models.build("unet", options, 0), b = Models.build("unet", options, 0);
        dev.prism.nn.ModelWeights.load(a.module(), out, null);
        dev.prism.nn.ModelWeights.load(b.module(), tuned.resolve("ema.safetensors"), null);
        List<Parameter> pa = a.module().parameters(), pb = b.module().parameters();
        for (int i = 0; i < pa.size(); i++) {
            Arrays32.assertClose(pa.get(i).name(), pa.get(i).value().data(), pb.get(i).value().data(), 1e-6, 1e-7);
        }
    }

    @Test
    void badInputIsRefusedNamingTheOption(@TempDir Path dir) throws Exception {
        Path weights = trained(dir);
        String out = dir.resolve("c.safetensors").toString();
        CliTest.Result r = CliTest.run("fit-kernels", "--weights", weights.toString(), "--basis", "fourier", "--orders", "2", "--out", out);
        assertEquals(2, r.code());
        assertEquals("prism: --basis expected cos or cheb, found 'fourier'", r.err().strip());
        r = CliTest.run("fit-kernels", "--weights", weights.toString(), "--orders", "4", "--out", out);
        assertEquals(2, r.code());
        assertEquals("prism: --orders 4: cosconv order expected in [1, 3], found 4", r.err().strip());
        r = CliTest.run("fit-kernels", "--weights", weights.toString(), "--orders", "2,2,2", "--out", out);
        assertEquals(2, r.code());
        assertEquals("prism: --orders 2,2,2: option order expected 1 or 2 values (levels=2), found 3 in '2,2,2'", r.err().strip());
        r = CliTest.run("fit-kernels", "--weights", weights.toString(), "--orders", "2", "--data", "fashion-mnist", "--out", out);
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("prism: --data applies to a classifier"), r.err());
        assertEquals(0, CliTest.run("fit-kernels", "--weights", weights.toString(), "--orders", "2", "--out", out).code());
        r = CliTest.run("fit-kernels", "--weights", out, "--orders", "2", "--out", dir.resolve("again.safetensors").toString());
        assertEquals(2, r.code());
        assertEquals("prism: --weights " + out + ": expected a model with standard convolutions (options metadata conv=standard), found "
                + "conv=cosconv", r.err().strip());
        r = CliTest.run("fit-kernels", "--weights", weights.toString(), "--orders", "2", "--out", out);
        assertEquals(2, r.code());
        assertEquals("prism: --out " + out + ": exists; pass --force to replace it", r.err().strip());
        r = CliTest.run("train", "--init", out, "--model", "unet", "--data", dir.resolve("images").toString(), "--steps", "1", "--out",
                dir.resolve("t").toString());
        assertEquals(2, r.code());
        assertEquals("prism: --model: with --init the model and its options come from the weights' metadata", r.err().strip());
    }
}
