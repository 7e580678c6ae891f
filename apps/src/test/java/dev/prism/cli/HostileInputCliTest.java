package dev.prism.cli;

import dev.prism.nn.io.Pickles;
import dev.prism.nn.io.SafetensorsWriter;
import dev.prism.nn.Tensor;
import dev.prism.nn.io.ZipBytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11's weight-file rows, each input fed through the command line as a user would: {@code info},
 * {@code info --model}, {@code convert} and {@code sample} end with one line that names the file and what is
 * wrong, exit with 2 (Main's bad-input code), print nothing on standard output and leave no file behind.
 * (Row 3, converting a checkpoint larger than the heap, and row 8, Ctrl-C during convert, run in child
 * JVMs: {@code ConvertLargeTest}.)
 */
class HostileInputCliTest {
    @TempDir
    Path dir;

    static final String UNET = "width=8,levels=2,attn=1,groups=4";

    Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    List<String> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    /**
     * Runs {@code args} and checks the bad-input contract: exit code 2, nothing on standard output, one line on
     * standard error equal to {@code "prism: " + message}, and the directory listing unchanged.
     */
    void refused(String message, String... args) throws IOException {
        List<String> before = listing();
        CliTest.Result r = BenchCommandTest.run(args);
        String what = String.join(" ", args);
        assertEquals(2, r.code(), what + "\n" + r.out() + r.err());
        assertEquals("", r.out(), what);
        assertEquals(1, r.err().strip().lines().count(), what + ": " + r.err());
        assertEquals("prism: " + message, r.err().strip(), what);
        assertEquals(before, listing(), what + ": files written or left behind");
    }

    /** The same refusal from info, info --model, convert and sample, all naming {@code file} and then {@code problem}. */
    void refusedEverywhere(Path file, String problem) throws IOException {
        String m = file + ": " + problem;
        Path out = dir.resolve("out.safetensors");
        Path grid = dir.resolve("grid.png");
        refused(m, "info", file.toString());
        refused(m, "info", "--model", "unet", "--config", UNET, file.toString());
        refused(m, "convert", file.toString(), out.toString());
        refused(m, "sample", "--weights", file.toString(), "--model", "unet", "--config", UNET, "--size", "8", "--batch", "1",
                "--steps", "1", "--out", grid.toString());
    }

    @Test
    void row1APickleBombEndsAtTheLimitItHitsAndTheOptionRaisesIt() throws IOException {
        // {"a": [set() * 1,000,000]}: a megabyte of pickle, deflated to about a kilobyte.
        Pickles p = new Pickles().proto(2).emptyDict().str("a").emptyList().mark();
        for (int i = 0; i < 1_000_000; i++) {
            p.op(0x8f);
        }
        ZipBytes z = new ZipBytes();
        z.add("archive/data.pkl", p.appends().setitem().stop().bytes(), true);
        Path bomb = write("bomb.pth", z.bytes());
        assertTrue(Files.size(bomb) < 4096);
        refusedEverywhere(bomb, "data.pkl byte 524296: more than 524288 values, the pickle limit objects=524288;"
                + " a state_dict needs far less (raise the limit only for a file you trust)");

        CliTest.Result r = BenchCommandTest.run("info", "--pickle-limit", "objects=2m", bomb.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(bomb + ": pytorch zip, 0 tensors, 0 parameters\n" + "tensor  dtype  shape  parameters\n"
                + "------  -----  -----  ----------\n" + "not tensors (ignored): a\n", r.out());
        refused("--pickle-limit expected one of objects, depth, memo, bytes, found 'size'", "info", "--pickle-limit", "size=3",
                bomb.toString());
        refused("--pickle-limit expected objects=<integer>[k|m|g], found 'objects=many'", "convert", "--pickle-limit",
                "objects=many", bomb.toString(), dir.resolve("out.safetensors").toString());
    }

    @Test
    void row2AStorageLargerThanItsRecordIsRefusedAndNoCountIsPrinted() throws IOException {
        // The pickle and both zip headers declare 500 million floats; the file holds twelve of them.
        byte[] pickle = new Pickles().proto(2).orderedDict().str("w").floatTensor("0", 500_000_000L).setitem().stop().bytes();
        ZipBytes z = ZipBytes.torch("archive", pickle, List.of(floats(new float[12])));
        ZipBytes.Entry s = z.entries.get(1);
        s.cenSize = s.cenCompressed = s.locSize = s.locCompressed = 2_000_000_000L;
        Path claims = write("claims.pth", z.bytes());
        refusedEverywhere(claims, "storage '0' (F32 × 500000000) needs 2000000000 bytes, archive entry 'archive/data/0' is a"
                + " stored record that the file ends inside of (its last byte, 1999999999, cannot be read)");
    }

    @Test
    void row6TruncatedOrUnreadableWeightsEndWithTheFileAndTheByte() throws Exception {
        byte[] st = Files.readAllBytes(SampleCommandTest.weights());
        Path cut = write("cut.safetensors", Arrays.copyOf(st, st.length / 2));
        refusedEverywhere(cut, "tensor 'down.1.attn.0.k.weight': data_offsets [20096,20352] go beyond the data section (20294 bytes)");

        byte[] pth;
        // From nn's test jar: a jar entry, not a file, once that jar is packaged.
        try (var in = getClass().getResourceAsStream("/models/unet-standard.pth")) {
            pth = in.readAllBytes();
        }
        Path cutPth = write("cut.pth", Arrays.copyOf(pth, pth.length / 2));
        refusedEverywhere(cutPth, "not a valid zip archive (" + pth.length / 2 + " bytes; cut short?): zip END header not found");

        // A deflated storage whose stream is corrupt: torch.load would fail too.
        ZipBytes z = ZipBytes.torch("archive", new Pickles().proto(2).orderedDict().str("w").floatTensor("0", 12).setitem()
                .stop().bytes(), List.of());
        ZipBytes.Entry bad = z.add("archive/data/0", floats(new float[12]), true);
        Arrays.fill(bad.payload, (byte) 0xff);
        Path corrupt = write("corrupt.pth", z.bytes());
        List<String> before = listing();
        for (String[] args : new String[][] {{"info", corrupt.toString()},
                {"sample", "--weights", corrupt.toString(), "--model", "unet", "--out", dir.resolve("g.png").toString()},
                {"info", "--model", "unet", "--config", UNET, corrupt.toString()}}) {
            CliTest.Result r = BenchCommandTest.run(args);
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().startsWith("prism: " + corrupt + ": archive entry 'archive/data/0' at byte 0: corrupt record: "), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
        assertEquals(before, listing());

        Path folder = Files.createDirectory(dir.resolve("weights.pth"));
        refusedEverywhere(folder, "is a directory, not a regular file; weight files are read only from regular files");
    }

    @Test
    void row11NamesWithTerminalEscapesArePrintedEscaped() throws IOException {
        String esc = "\u001b]0;pwned\u0007\u001b[2J";
        byte[] pickle = new Pickles().proto(2).orderedDict().mark()
                .str("w" + esc).floatTensor("0", 3)
                .str("epoch\u001b[31m").integer(3)
                .setitems().stop().bytes();
        Path pth = write("esc.pth", ZipBytes.torch("archive", pickle, List.of(floats(1, 2, 3))).bytes());
        CliTest.Result r = BenchCommandTest.run("info", pth.toString());
        assertEquals(0, r.code(), r.err());
        assertPrintable(r.out());
        assertTrue(r.out().contains("\nw\\x1b]0;pwned\\x07\\x1b[2J  F32  "), r.out());
        assertTrue(r.out().contains("not tensors (ignored): epoch\\x1b[31m\n"), r.out());

        Path st = dir.resolve("esc.safetensors");
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("note\u001b[8m", "hidden\u202etxt.exe");
        SafetensorsWriter.write(st, Map.of("b\u009b31m", Tensor.zeros(2)), meta, false);
        r = BenchCommandTest.run("info", st.toString());
        assertEquals(0, r.code(), r.err());
        assertPrintable(r.out());
        assertTrue(r.out().contains("\nb\\x9b31m  F32  "), r.out());
        assertTrue(r.out().contains("  note\\x1b[8m = hidden\\u202etxt.exe\n"), r.out());

        Path out = dir.resolve("esc-out.safetensors");
        r = BenchCommandTest.run("convert", pth.toString(), out.toString());
        assertEquals(0, r.code(), r.err());
        assertPrintable(r.out());

        byte[] evil = new Pickles().proto(2).global("posix\u001b[2J", "system").stop().bytes();
        Path bad = write("evil.pth", ZipBytes.torch("archive", evil, List.of()).bytes());
        r = BenchCommandTest.run("info", bad.toString());
        assertEquals(2, r.code());
        assertPrintable(r.err());
        assertTrue(r.err().contains("global 'posix\\x1b[2J.system' is not allowed"), r.err());
    }

    static void assertPrintable(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean control = (c < 0x20 && c != '\n') || c == 0x7f || (c >= 0x80 && c < 0xa0) || (c >= 0x202a && c <= 0x202e);
            assertFalse(control, "raw control character U+" + Integer.toHexString(c) + " at " + i + " in " + s);
        }
    }

    @Test
    void row12AFifoIsRefusedWithoutWaitingForAWriter() throws Exception {
        Path fifo = dir.resolve("weights.safetensors");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        // Each command would block forever in open(2) if it opened the FIFO for reading.
        assertTimeoutPreemptively(Duration.ofSeconds(60), () ->
                refusedEverywhere(fifo, "is a FIFO (named pipe), not a regular file; weight files are read only from regular files"));
        refused("/dev/zero: is a character device, not a regular file; weight files are read only from regular files",
                "info", "/dev/zero");
    }

    @Test
    void row13FormatsPrismDoesNotReadAreNamedWithWhatToDo() throws Exception {
        refusedEverywhere(WeightsCliTest.resource("legacy.pth"), "this is a legacy torch.save file (the format PyTorch wrote"
                + " before 1.6, and later only with _use_new_zipfile_serialization=False); Prism reads the zip format torch.save has"
                + " written by default since PyTorch 1.6: re-save it with torch.save(torch.load(path), new_path,"
                + " _use_new_zipfile_serialization=True)");
        refusedEverywhere(WeightsCliTest.resource("torchscript.pt"), "this is a TorchScript archive (torch.jit.save), not a"
                + " state_dict; save the model's weights with torch.save(model.state_dict(), path)");
        Map<String, String> others = Map.of(
                "state_dict.pkl", "this is a bare pickle stream (protocol 4, e.g. from pickle.dump), not a torch.save archive;"
                        + " Prism reads torch.save zip archives and safetensors: save the state_dict with torch.save(state_dict, path)",
                "arrays.npz", "this is a NumPy .npz archive; Prism reads safetensors and torch.save archives",
                "array.npy", "this is a NumPy .npy array; Prism reads safetensors and torch.save archives",
                "fp32.pth.gz", "this is a gzip-compressed file; decompress it first (gunzip)");
        for (var o : others.entrySet()) {
            Path p = WeightsCliTest.resource(o.getKey());
            refused(p + ": " + o.getValue(), "info", p.toString());
        }
        CliTest.Result r = BenchCommandTest.run("info", WeightsCliTest.resource("whole_module.pth").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().strip().endsWith("; this file holds a whole pickled nn.Module (torch.save(model)), not a state_dict:"
                + " save model.state_dict() instead"), r.err());
    }
}
