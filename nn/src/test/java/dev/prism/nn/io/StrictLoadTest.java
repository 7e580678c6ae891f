package dev.prism.nn.io;

import dev.prism.nn.Tensor;
import dev.prism.testing.Arrays32;
import dev.prism.testing.Inputs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class StrictLoadTest {
    @TempDir
    Path dir;

    static Map<String, int[]> shapes(Object... nameThenShape) {
        Map<String, int[]> m = new LinkedHashMap<>();
        for (int i = 0; i < nameThenShape.length; i += 2) {
            m.put((String) nameThenShape[i], (int[]) nameThenShape[i + 1]);
        }
        return m;
    }

    Path write(String name, Map<String, Tensor> tensors) throws IOException {
        Path p = dir.resolve(name);
        SafetensorsWriter.write(p, tensors);
        return p;
    }

    @Test
    void everyProblemIsListedInOneErrorNamingTheFile() throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("up.1.bias", Tensor.zeros(32));
        t.put("up.1.weight", Tensor.zeros(64, 64, 3, 3));
        Path p = write("model.safetensors", t);
        Map<String, int[]> expected = shapes("down.0.weight", new int[] {64, 3, 3, 3}, "up.1.weight", new int[] {64, 64, 3, 3},
                "up.1.bias", new int[] {64});
        try (WeightFile f = WeightFile.open(p)) {
            var e = assertThrows(WeightFileException.class, () -> StrictLoad.load(f, expected));
            assertEquals(p + ": 2 problems: missing 'down.0.weight' [64,3,3,3]; shape of 'up.1.bias': expected [64], found [32]",
                    e.getMessage());
            assertEquals(p.toString(), e.file());
        }
    }

    @Test
    void unexpectedAndNonFloatTensorsAreProblemsToo() throws IOException {
        try (WeightFile f = WeightFile.open(TestFiles.weights("mixed.safetensors"))) {
            var e = assertThrows(WeightFileException.class, () -> StrictLoad.load(f,
                    shapes("h", new int[] {2, 3}, "b", new int[] {3, 2}, "steps", new int[] {3}, "scalar", new int[] {})));
            assertEquals(f.source() + ": 2 problems: dtype of 'steps': expected F32, F16 or BF16, found I64; unexpected 'empty' F32[0]",
                    e.getMessage());
            var one = assertThrows(WeightFileException.class, () -> StrictLoad.load(f,
                    shapes("h", new int[] {2, 3}, "b", new int[] {3, 2}, "scalar", new int[] {}, "empty", new int[] {0})));
            assertEquals(f.source() + ": 1 problem: unexpected 'steps' I64[3]", one.getMessage());
        }
    }

    @Test
    void aMatchingFileLoadsInTheModelsOrder() throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("b", Tensor.of(Inputs.gaussian(6, 1), 2, 3));
        t.put("a", Tensor.of(Inputs.gaussian(4, 2), 4));
        Path p = write("ok.safetensors", t);
        try (WeightFile f = WeightFile.open(p)) {
            Map<String, Tensor> loaded = StrictLoad.load(f, shapes("a", new int[] {4}, "b", new int[] {2, 3}));
            assertEquals(List.of("a", "b"), List.copyOf(loaded.keySet()));
            Arrays32.assertIdentical("b", t.get("b").data(), loaded.get("b").data());
        }
    }

    @Test
    void aPrefixIsStrippedOnlyWhenAskedAndCollisionsAreReported() throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("module.w", Tensor.zeros(2));
        t.put("w", Tensor.zeros(2));
        Path p = write("dp.safetensors", t);
        try (WeightFile f = WeightFile.open(p)) {
            var e = assertThrows(WeightFileException.class, () -> StrictLoad.load(f, shapes("w", new int[] {2}), "module."));
            assertEquals(p + ": 1 problem: 'module.w' and 'w' both become 'w' when 'module.' is stripped", e.getMessage());
            e = assertThrows(WeightFileException.class, () -> StrictLoad.load(f, shapes("w", new int[] {2})));
            assertEquals(p + ": 1 problem: unexpected 'module.w' F32[2]", e.getMessage());
        }
    }
}
