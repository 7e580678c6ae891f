package dev.prism.nn.io;

import dev.prism.nn.Tensor;
import dev.prism.testing.Arrays32;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsFileTest {
    @TempDir
    Path dir;

    static Map<String, Tensor> sample() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("down.0.conv.weight", Tensor.of(Inputs.gaussian(4 * 3 * 3 * 3, 1), 4, 3, 3, 3));
        m.put("down.0.conv.bias", Tensor.of(Inputs.gaussian(4, 2), 4));
        m.put("odd", Tensor.of(Inputs.gaussian(7 * 5, 3), 7, 5));
        m.put("scalar", Tensor.of(new float[] {-0.0f}));
        m.put("empty", Tensor.zeros(0, 3));
        m.put("specials", Tensor.of(new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.MIN_VALUE, -Float.MAX_VALUE}, 4));
        m.put("ünïcode/näme", Tensor.of(Inputs.gaussian(3, 4), 3));
        return m;
    }

    @Test
    void writeThenReadRestoresNamesShapesBitsAndMetadataInOrder() throws IOException {
        Map<String, Tensor> in = sample();
        Path p = dir.resolve("model.safetensors");
        SafetensorsWriter.write(p, in, Map.of("format", "pt", "epoch", "3"), false);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.copyOf(in.keySet()), f.entries().stream().map(WeightEntry::name).toList());
            assertEquals(Map.of("format", "pt", "epoch", "3"), f.metadata());
            assertEquals(0, (8 + f.headerLength()) % 8, "data section starts 8-aligned");
            for (var e : in.entrySet()) {
                SafetensorsFile.Entry entry = f.entry(e.getKey());
                assertEquals(DType.F32, entry.dtype());
                assertArrayEquals(e.getValue().shape(), entry.shape());
                assertTrue(entry.bytes().isMapped(), "tensor bytes are a slice of the mapping");
                assertEquals(4L * e.getValue().numel(), entry.bytes().byteSize());
                Tensor t = entry.toTensor();
                assertArrayEquals(e.getValue().shape(), t.shape());
                Arrays32.assertIdentical(e.getKey(), e.getValue().data(), t.data());
            }
        }
        // Sizes add up: 8 + header + 4 bytes per element, nothing else.
        long elements = in.values().stream().mapToLong(Tensor::numel).sum();
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(8 + f.headerLength() + 4 * elements, Files.size(p));
        }
    }

    @Test
    void readsSafetensorsWrittenByPythonWithF16AndBf16Exactly() throws IOException {
        Npz ref = TestFiles.expected("f32.safetensors");
        try (WeightFile f = WeightFile.open(TestFiles.weights("f32.safetensors"))) {
            assertInstanceOf(SafetensorsFile.class, f);
            assertEquals(Map.of("format", "pt", "source", "tools/refgen/weights.py"), f.metadata());
            assertEquals(List.of("conv.weight", "conv.bias"), f.entries().stream().map(WeightEntry::name).toList());
            for (WeightEntry e : f.entries()) {
                assertArrayEquals(ref.shape(e.name()), e.shape());
                Arrays32.assertIdentical(e.name(), ref.f(e.name()), e.toTensor().data());
            }
        }
        ref = TestFiles.expected("mixed.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(TestFiles.weights("mixed.safetensors"))) {
            assertEquals(Map.of(), f.metadata());
            assertEquals(DType.F16, f.entry("h").dtype());
            assertEquals(DType.BF16, f.entry("b").dtype());
            assertEquals(DType.I64, f.entry("steps").dtype());
            for (String name : List.of("h", "b", "empty", "scalar")) {
                Tensor t = f.tensor(name);
                assertArrayEquals(ref.shape(name), t.shape(), name);
                Arrays32.assertIdentical(name, ref.f(name), t.data());
            }
            assertArrayEquals(new int[0], f.entry("scalar").shape());
            var e = assertThrows(WeightFileException.class, () -> f.tensor("steps"));
            assertTrue(e.getMessage().endsWith("mixed.safetensors: tensor 'steps': dtype I64 cannot be loaded as float"
                    + " (expected F32, F16 or BF16)"), e.getMessage());
            e = assertThrows(WeightFileException.class, () -> f.entry("nope"));
            assertTrue(e.getMessage().endsWith("mixed.safetensors: no tensor named 'nope' (the file has 5 tensors)"), e.getMessage());
        }
    }

    @Test
    void writingRefusesToReplaceUnlessAskedAndNeverLeavesPartsBehind() throws IOException {
        Path p = dir.resolve("w.safetensors");
        SafetensorsWriter.write(p, Map.of("a", Tensor.of(new float[] {1, 2}, 2)));
        byte[] first = Files.readAllBytes(p);

        assertThrows(FileAlreadyExistsException.class, () -> SafetensorsWriter.write(p, Map.of("b", Tensor.zeros(3))));
        assertArrayEquals(first, Files.readAllBytes(p));

        var bad = assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.write(p, Map.of("__metadata__", Tensor.zeros(1)), Map.of(), true));
        assertEquals(p + ": tensor name '__metadata__' is reserved by the safetensors format", bad.getMessage());
        assertArrayEquals(first, Files.readAllBytes(p));

        // A failure while the bytes are being written: the target keeps its old contents.
        assertThrows(IOException.class, () -> AtomicWrite.write(p, true, ch -> {
            ch.write(java.nio.ByteBuffer.wrap(new byte[100]));
            throw new IOException("disk full (simulated)");
        }));
        assertArrayEquals(first, Files.readAllBytes(p));

        SafetensorsWriter.write(p, Map.of("b", Tensor.of(new float[] {5, 6, 7}, 3)), Map.of(), true);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.of("b"), f.entries().stream().map(WeightEntry::name).toList());
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("w.safetensors"), files.map(x -> x.getFileName().toString()).toList(), "no temporary file is left");
        }
        assertThrows(java.nio.file.NoSuchFileException.class,
                () -> SafetensorsWriter.write(dir.resolve("no/such/dir/x.safetensors"), Map.of()));
    }

    @Test
    void closingUnmapsTheFileButConvertedTensorsStayValid() throws IOException {
        Path p = dir.resolve("c.safetensors");
        SafetensorsWriter.write(p, sample());
        SafetensorsFile f = SafetensorsFile.open(p);
        Tensor kept = f.tensor("odd");
        SafetensorsFile.Entry e = f.entry("odd");
        f.close();
        f.close(); // idempotent
        assertThrows(IllegalStateException.class, e::toTensor);
        assertThrows(IllegalStateException.class, () -> e.bytes().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
        Arrays32.assertIdentical("odd", sample().get("odd").data(), kept.data());
    }

    @Test
    void manyThreadsReadOneOpenFile() throws IOException {
        Path p = dir.resolve("t.safetensors");
        Map<String, Tensor> in = sample();
        SafetensorsWriter.write(p, in);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            IntStream.range(0, 64).parallel().forEach(i -> {
                String name = List.copyOf(in.keySet()).get(i % in.size());
                Arrays32.assertIdentical(name, in.get(name).data(), f.tensor(name).data());
            });
        }
    }

    @Test
    void bytesInMemoryReadTheSameAndStayTheCallersToClose() throws IOException {
        Path p = dir.resolve("m.safetensors");
        SafetensorsWriter.write(p, sample());
        var seg = java.lang.foreign.MemorySegment.ofArray(Files.readAllBytes(p));
        SafetensorsFile f = SafetensorsFile.of("in-memory", seg);
        f.close();
        Arrays32.assertIdentical("odd", sample().get("odd").data(), f.tensor("odd").data());
        assertFalse(f.entry("odd").bytes().isMapped());
    }
}
