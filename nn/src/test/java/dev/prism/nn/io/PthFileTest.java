package dev.prism.nn.io;

import dev.prism.nn.Tensor;
import dev.prism.testing.Arrays32;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Files written by PyTorch 1.13's torch.save (tools/refgen/weights.py), read and compared with PyTorch's values. */
class PthFileTest {
    @TempDir
    Path dir;

    static List<String> names(WeightFile f) {
        return f.entries().stream().map(WeightEntry::name).toList();
    }

    /** Every float tensor equals PyTorch's value bit for bit (fp16 and bf16 widen exactly). */
    static void assertMatchesPyTorch(WeightFile f, Npz ref) {
        int checked = 0;
        for (WeightEntry e : f.entries()) {
            if (!e.dtype().loadsAsFloat()) {
                continue;
            }
            Tensor t = e.toTensor();
            assertArrayEquals(ref.shape(e.name()), t.shape(), e.name());
            Arrays32.assertIdentical(f.source() + " " + e.name(), ref.f(e.name()), t.data());
            checked++;
        }
        assertTrue(checked > 0);
    }

    @Test
    void fp32StateDictLoadsInStateDictOrderWithPyTorchsValues() throws IOException {
        try (WeightFile f = WeightFile.open(TestFiles.weights("fp32.pth"))) {
            assertInstanceOf(PthFile.class, f);
            assertEquals("pytorch zip", f.format());
            assertEquals(List.of("conv.weight", "conv.bias", "norm.weight", "norm.bias", "proj.weight", "proj.bias"), names(f));
            assertArrayEquals(new int[] {4, 3, 3, 3}, f.entry("conv.weight").shape());
            assertEquals(Map.of(), f.metadata());
            assertMatchesPyTorch(f, TestFiles.expected("fp32.pth"));
        }
    }

    @Test
    void halfAndBfloat16StoragesWidenExactly() throws IOException {
        try (PthFile f = PthFile.open(TestFiles.weights("halves.pth"))) {
            assertEquals(DType.F16, f.entry("conv.weight").dtype());
            assertEquals(DType.BF16, f.entry("proj.weight").dtype());
            assertMatchesPyTorch(f, TestFiles.expected("halves.pth"));
        }
    }

    @Test
    void viewsAreGatheredFromTheirStorages() throws IOException {
        try (PthFile f = PthFile.open(TestFiles.weights("views.pth"))) {
            assertEquals(List.of("transposed", "row_slice", "block", "expanded", "half_t", "scalar", "empty", "param", "steps"), names(f));
            PthFile.Entry tr = f.entry("transposed");
            assertFalse(tr.contiguous());
            assertArrayEquals(new long[] {1, 6}, tr.stride());
            PthFile.Entry slice = f.entry("row_slice");
            assertTrue(slice.contiguous());
            assertEquals(5, slice.storageOffset());
            PthFile.Entry block = f.entry("block");
            assertEquals(8, block.storageOffset());
            assertEquals(tr.storageKey(), block.storageKey(), "two views of one storage");
            assertArrayEquals(new long[] {1, 0}, f.entry("expanded").stride());
            assertEquals(DType.F16, f.entry("half_t").dtype());
            assertArrayEquals(new int[0], f.entry("scalar").shape());
            assertEquals(0, f.entry("empty").numel());
            assertMatchesPyTorch(f, TestFiles.expected("views.pth"));

            assertEquals(DType.I64, f.entry("steps").dtype());
            var e = assertThrows(WeightFileException.class, () -> f.tensor("steps"));
            assertEquals(f.source() + ": tensor 'steps': dtype I64 cannot be loaded as float (expected F32, F16 or BF16)", e.getMessage());
        }
    }

    @Test
    void dataParallelPrefixIsKeptUnlessStripped() throws IOException {
        try (WeightFile f = WeightFile.open(TestFiles.weights("module_prefix.pth"))) {
            assertTrue(names(f).stream().allMatch(n -> n.startsWith("module.")), names(f).toString());
            assertMatchesPyTorch(f, TestFiles.expected("module_prefix.pth"));
            Map<String, int[]> expected = new LinkedHashMap<>();
            expected.put("conv.weight", new int[] {4, 3, 3, 3});
            expected.put("conv.bias", new int[] {4});
            expected.put("norm.weight", new int[] {4});
            expected.put("norm.bias", new int[] {4});
            expected.put("proj.weight", new int[] {5, 6});
            expected.put("proj.bias", new int[] {5});
            Map<String, Tensor> loaded = StrictLoad.load(f, expected, "module.");
            assertEquals(List.copyOf(expected.keySet()), List.copyOf(loaded.keySet()));
            Arrays32.assertIdentical("proj.weight", TestFiles.expected("module_prefix.pth").f("module.proj.weight"),
                    loaded.get("proj.weight").data());
            var e = assertThrows(WeightFileException.class, () -> StrictLoad.load(f, expected));
            assertTrue(e.getMessage().startsWith(f.source() + ": 12 problems: missing 'conv.weight' [4,3,3,3]; "), e.getMessage());
            assertTrue(e.getMessage().endsWith("; unexpected 'module.proj.bias' F32[5]. Every name starts with 'module.' "
                    + "(DistributedDataParallel's prefix) and the rest are the model's: strip it (--strip-prefix module.)"), e.getMessage());
        }
    }

    @Test
    void checkpointDictsAreFlattenedAndOtherValuesListed() throws IOException {
        try (PthFile f = PthFile.open(TestFiles.weights("checkpoint.pth"))) {
            assertEquals(List.of("model.conv.weight", "model.conv.bias", "model.norm.weight", "model.norm.bias",
                    "model.proj.weight", "model.proj.bias"), names(f));
            assertEquals(List.of("epoch", "note"), f.ignored());
            // The same state_dict as fp32.pth, saved one level down.
            Arrays32.assertIdentical("conv.weight", TestFiles.expected("fp32.pth").f("conv.weight"),
                    f.tensor("model.conv.weight").data());
        }
    }

    @Test
    void aPickleThatWouldRunACommandIsRejectedNamingTheGlobal() throws IOException {
        Path evil = TestFiles.weights("evil_system.pth");
        var e = assertThrows(WeightFileException.class, () -> WeightFile.open(evil));
        assertEquals(evil.toString(), e.file());
        assertTrue(e.getMessage().contains(": global 'posix.system' is not allowed: Prism loads only tensors"), e.getMessage());
    }

    @Test
    void craftedArchivesBreakingOneRuleEachAreRejected() throws IOException {
        try (PthFile ok = PthFile.open(TestFiles.weights("crafted_ok.pth"))) {
            assertFalse(ok.entry("w").contiguous());
            assertMatchesPyTorch(ok, TestFiles.expected("crafted_ok.pth"));
        }
        Map<String, String> cases = Map.of(
                "crafted_view_beyond_storage.pth",
                "tensor 'w': view offset 5, shape [2,4], stride [4,1] reaches element 12 of storage '0', which has 12 elements",
                "crafted_missing_storage.pth", "storage '0' has no archive entry 'crafted_missing_storage/data/0'",
                "crafted_short_storage.pth", "storage '0' (F32 × 12) needs 48 bytes, archive entry 'crafted_short_storage/data/0' declares 40",
                "crafted_complex_storage.pth", "global 'torch.ComplexFloatStorage' is not allowed");
        for (var c : cases.entrySet()) {
            Path p = TestFiles.weights(c.getKey());
            var e = assertThrows(WeightFileException.class, () -> PthFile.open(p), c.getKey());
            assertTrue(e.getMessage().startsWith(p + ": ") && e.getMessage().contains(c.getValue()), e.getMessage());
        }
    }

    @Test
    void legacyAndNonZipFilesAreRejectedWithAReason() throws IOException {
        Path legacy = TestFiles.weights("legacy.pth");
        String resave = legacy + ": this is a legacy torch.save file (the format PyTorch wrote before 1.6, and later only with"
                + " _use_new_zipfile_serialization=False); Prism reads the zip format torch.save has written by default since"
                + " PyTorch 1.6: re-save it with torch.save(torch.load(path), new_path, _use_new_zipfile_serialization=True)";
        var e = assertThrows(WeightFileException.class, () -> WeightFile.open(legacy));
        assertEquals(resave, e.getMessage());
        e = assertThrows(WeightFileException.class, () -> PthFile.open(legacy));
        assertEquals(resave, e.getMessage());

        Path text = dir.resolve("notes.pth");
        Files.writeString(text, "hello");
        e = assertThrows(WeightFileException.class, () -> PthFile.open(text));
        assertEquals(text + ": not a zip archive: expected the bytes 50 4b 03 04 ('PK\\3\\4') that start a torch.save file,"
                + " found 68 65 6c 6c", e.getMessage());
    }

    @Test
    void formatIsTakenFromTheBytesNotTheName() throws IOException {
        Path misnamed = dir.resolve("really-safetensors.pth");
        Files.copy(TestFiles.weights("f32.safetensors"), misnamed);
        try (WeightFile f = WeightFile.open(misnamed)) {
            assertInstanceOf(SafetensorsFile.class, f);
        }
        Path zip = dir.resolve("really-torch.safetensors");
        Files.copy(TestFiles.weights("fp32.pth"), zip);
        try (WeightFile f = WeightFile.open(zip)) {
            assertInstanceOf(PthFile.class, f);
        }
    }
}
