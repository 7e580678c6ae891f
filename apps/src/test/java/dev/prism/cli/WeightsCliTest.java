package dev.prism.cli;

import dev.prism.nn.Tensor;
import dev.prism.nn.io.SafetensorsFile;
import dev.prism.nn.io.SafetensorsWriter;
import dev.prism.nn.io.WeightEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code prism info} and {@code prism convert} on files written by torch.save (tools/refgen/weights.py). */
class WeightsCliTest {
    @TempDir
    Path dir;

    static Path resource(String name) {
        try {
            return Path.of(WeightsCliTest.class.getResource("/weights/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    List<String> dirListing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void infoListsTensorsOfAPthFileWithDtypesShapesAndTotal() {
        Path pth = resource("views.pth");
        CliTest.Result r = CliTest.run("info", pth.toString());
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().split("\n");
        assertEquals(pth + ": pytorch zip, 9 tensors, 70 parameters", lines[0]);
        assertTrue(r.out().contains("transposed  F32    [6,4]"), r.out());
        assertTrue(r.out().contains("half_t      F16    [5,3]"), r.out());
        assertTrue(r.out().contains("scalar      F32    []"), r.out());
        assertTrue(r.out().contains("steps       I64    []"), r.out());
    }

    @Test
    void convertWritesFp32SafetensorsWithTheSourceInMetadataAndInfoReadsIt() throws IOException {
        Path out = dir.resolve("model.safetensors");
        CliTest.Result r = CliTest.run("convert", resource("fp32.pth").toString(), out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("wrote " + out + ": 6 tensors, 155 parameters, fp32, from " + resource("fp32.pth"), r.out().strip());
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals(List.of("conv.weight", "conv.bias", "norm.weight", "norm.bias", "proj.weight", "proj.bias"),
                    f.entries().stream().map(WeightEntry::name).toList());
            assertEquals(Map.of("format", "pt", "source", "fp32.pth"), f.metadata());
            assertArrayEquals(new int[] {4, 3, 3, 3}, f.entry("conv.weight").shape());
        }
        CliTest.Result info = CliTest.run("info", out.toString());
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().startsWith(out + ": safetensors, 6 tensors, 155 parameters\n"), info.out());
        assertTrue(info.out().contains("metadata:\n  format = pt\n  source = fp32.pth\n"), info.out());
    }

    @Test
    void convertRefusesToOverwriteUnlessForced() throws IOException {
        Path out = dir.resolve("existing.safetensors");
        Files.writeString(out, "keep me");
        CliTest.Result r = CliTest.run("convert", resource("fp32.pth").toString(), out.toString());
        assertEquals(2, r.code());
        assertEquals("prism: " + out + ": exists; pass --force to replace it", r.err().strip());
        assertEquals("keep me", Files.readString(out));

        r = CliTest.run("convert", "--force", resource("fp32.pth").toString(), out.toString());
        assertEquals(0, r.code(), r.err());
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals(6, f.entries().size());
        }
        assertEquals(List.of("existing.safetensors"), dirListing());
    }

    @Test
    void nonFloatTensorsFailTheConversionUnlessSkippedAndNothingIsWritten() throws IOException {
        Path out = dir.resolve("views.safetensors");
        CliTest.Result r = CliTest.run("convert", resource("views.pth").toString(), out.toString());
        assertEquals(2, r.code());
        assertEquals("prism: " + resource("views.pth") + ": 1 tensors are not F32, F16 or BF16: 'steps' (I64);"
                + " pass --skip-non-float to leave them out", r.err().strip());
        assertEquals(List.of(), dirListing(), "no output and no temporary file");

        r = CliTest.run("convert", "--skip-non-float", resource("views.pth").toString(), out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("skipped 'steps' (I64): not a float tensor"), r.out());
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals(8, f.entries().size());
            assertFalse(f.has("steps"));
            assertArrayEquals(new int[] {5, 3}, f.entry("half_t").shape());
        }
    }

    @Test
    void badInputsEndWithOneLineNamingThePathAndExitCode2() throws IOException {
        Path missing = dir.resolve("none.pth");
        CliTest.Result r = CliTest.run("info", missing.toString());
        assertEquals(2, r.code());
        assertEquals("prism: " + missing + ": no such file", r.err().strip());

        Path junk = dir.resolve("junk.safetensors");
        Files.write(junk, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        r = CliTest.run("info", junk.toString());
        assertEquals(2, r.code());
        assertEquals("prism: " + junk + ": not a weight file Prism reads: neither safetensors (an 8-byte header length, then a JSON"
                + " object) nor a torch.save zip archive (\"PK\\3\\4\"); it starts with 01 02 03 04 05 06 07 08 09 (\".........\")",
                r.err().strip());

        Path out = dir.resolve("out.safetensors");
        r = CliTest.run("convert", junk.toString(), out.toString());
        assertEquals(2, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(Files.exists(out));

        r = CliTest.run("convert", resource("fp32.pth").toString(), dir.resolve("no/such/dir/out.safetensors").toString());
        assertEquals(2, r.code());
        assertEquals("prism: " + dir.resolve("no/such/dir/out.safetensors") + ": its directory does not exist", r.err().strip());
        assertEquals(List.of("junk.safetensors"), dirListing());
    }

    @Test
    void convertAlsoReadsSafetensorsAndKeepsItsMetadata() throws IOException {
        Path in = dir.resolve("half.safetensors");
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("w", Tensor.of(new float[] {1, 2, 3}, 3));
        SafetensorsWriter.write(in, t, Map.of("author", "test"), false);
        Path out = dir.resolve("copy.safetensors");
        CliTest.Result r = CliTest.run("convert", in.toString(), out.toString());
        assertEquals(0, r.code(), r.err());
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals(Map.of("author", "test", "format", "pt", "source", "half.safetensors"), f.metadata());
        }
    }
}
