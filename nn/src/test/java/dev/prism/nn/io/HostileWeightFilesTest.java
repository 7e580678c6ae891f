package dev.prism.nn.io;

import dev.prism.nn.Tensor;
import dev.prism.testing.Arrays32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Weight files as a hostile or careless user hands them over (issue 11): storages that claim more than
 * their records hold, files cut short or changed while open, names that would drive a terminal,
 * special files, and formats Prism does not read. Each ends in a {@link WeightFileException} that names
 * the file; the command-line side of the same inputs is {@code apps}' {@code HostileInputCliTest}.
 */
class HostileWeightFilesTest {
    @TempDir
    Path dir;

    static final float[] TWELVE = {0.5f, -1, 2, 3.25f, 4, 5, 6, 7, 8, 9, 10, 11};

    static byte[] le(float[] v) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * v.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    /** {"w": FloatStorage '0' of {@code numel} elements, viewed as [numel]} over the given storage bytes. */
    ZipBytes oneTensor(long numel, byte[] storage) {
        return oneTensor(numel, numel, storage);
    }

    /** {"w": the first {@code view} elements of FloatStorage '0' of {@code numel} elements} over the given storage bytes. */
    ZipBytes oneTensor(long numel, long view, byte[] storage) {
        byte[] pickle = new Pickles().proto(2).orderedDict().str("w")
                .tensor("FloatStorage", "0", numel, 0, new long[] {view}, new long[] {1}).setitem().stop().bytes();
        return ZipBytes.torch("archive", pickle, List.of(storage));
    }

    Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    static WeightFileException refused(Path p) {
        var e = assertThrows(WeightFileException.class, () -> WeightFile.open(p).close(), p.toString());
        assertEquals(p.toString(), e.file());
        assertTrue(e.getMessage().startsWith(p + ": "), e.getMessage());
        return e;
    }

    // ---- row 2: a storage that declares more than its zip record holds ----------------------------------

    @Test
    void aStoredRecordThatDeclaresMoreBytesThanTheFileHoldsIsRefusedAtOpen() throws IOException {
        // 500 million floats (2 GB) declared by the pickle and by both headers; the file holds 48 bytes of them.
        ZipBytes z = oneTensor(500_000_000L, le(TWELVE));
        ZipBytes.Entry s = z.entries.get(1);
        s.cenSize = s.cenCompressed = s.locSize = s.locCompressed = 2_000_000_000L;
        Path p = write("claims.pth", z.bytes());
        assertEquals(p + ": storage '0' (F32 × 500000000) needs 2000000000 bytes, archive entry 'archive/data/0' is a stored"
                + " record that the file ends inside of (its last byte, 1999999999, cannot be read)", refused(p).getMessage());
    }

    @Test
    void aDeflatedRecordMustInflateToExactlyTheDeclaredBytes() throws IOException {
        ZipBytes z = oneTensor(12, le(TWELVE));
        z.entries.set(1, new ZipBytes().add("archive/data/0", new byte[40], true));
        z.entries.get(1).cenSize = 48; // the central directory agrees with the pickle, the data does not
        Path p = write("short.pth", z.bytes());
        assertEquals(p + ": storage '0' (F32 × 12) needs 48 bytes, archive entry 'archive/data/0' inflates to 40 bytes",
                refused(p).getMessage());

        z.entries.set(1, new ZipBytes().add("archive/data/0", new byte[4096], true));
        z.entries.get(1).cenSize = 48;
        p = write("long.pth", z.bytes());
        assertEquals(p + ": storage '0' (F32 × 12) needs 48 bytes, archive entry 'archive/data/0' inflates to more than 48 bytes",
                refused(p).getMessage());

        // Deflated and whole: read like a stored one.
        z.entries.set(1, new ZipBytes().add("archive/data/0", le(TWELVE), true));
        p = write("deflated.pth", z.bytes());
        try (WeightFile f = WeightFile.open(p)) {
            assertArrayEquals(TWELVE, f.tensor("w").data());
        }
    }

    @Test
    void declaredSizesAreLongsAndTheirProductsAreChecked() throws IOException {
        // numel × 4 overflows 64 bits; numel itself is a valid long.
        Path p = write("overflow.pth", oneTensor(1L << 62, 12, le(TWELVE)).bytes());
        assertEquals(p + ": storage '0': 4611686018427387904 elements overflow 64 bits of bytes", refused(p).getMessage());
        // A header that declares fewer bytes than the storage needs.
        p = write("fewer.pth", oneTensor(13, le(TWELVE)).bytes());
        assertEquals(p + ": storage '0' (F32 × 13) needs 52 bytes, archive entry 'archive/data/0' declares 48", refused(p).getMessage());
    }

    @Test
    void aTensorLargerThanTheHeapIsRefusedBeforeItsArrayIsAllocated() throws IOException {
        // A view of the largest array of a one-element storage (stride 0, as expand() saves): legal, and 8 GiB as fp32.
        long n = Integer.MAX_VALUE - 8;
        byte[] pickle = new Pickles().proto(2).orderedDict().str("x")
                .tensor("FloatStorage", "0", 1, 0, new long[] {n}, new long[] {0}).setitem().stop().bytes();
        Path p = write("expanded.pth", ZipBytes.torch("archive", pickle, List.of(le(new float[] {1}))).bytes());
        try (WeightFile f = WeightFile.open(p)) {
            assertEquals(n, f.entry("x").numel());
            var e = assertThrows(WeightFileException.class, () -> f.tensor("x"));
            assertEquals(p + ": tensor 'x': 2147483639 elements need 8192.0 MiB as fp32, more than the whole heap ("
                    + Floats.mib(Runtime.getRuntime().maxMemory()) + "); raise -Xmx", e.getMessage());
        }
    }

    // ---- row 6: truncated, corrupt, or changed while open ---------------------------------------------

    @Test
    void aCorruptDeflatedRecordNamesTheEntry() throws IOException {
        ZipBytes z = oneTensor(12, le(TWELVE));
        z.entries.set(1, new ZipBytes().add("archive/data/0", le(TWELVE), true));
        byte[] payload = z.entries.get(1).payload;
        java.util.Arrays.fill(payload, 0, payload.length, (byte) 0xff); // not a deflate stream
        Path p = write("corrupt.pth", z.bytes());
        var e = refused(p);
        assertTrue(e.getMessage().startsWith(p + ": archive entry 'archive/data/0' at byte 0: corrupt record: "), e.getMessage());
    }

    @Test
    void everyCutOfAPthOrSafetensorsFileIsATypedError() throws IOException {
        for (String name : new String[] {"views.pth", "f32.safetensors", "mixed.safetensors"}) {
            byte[] whole = Files.readAllBytes(TestFiles.weights(name));
            Path p = dir.resolve("cut-" + name);
            for (int n = 0; n < whole.length; n += Math.max(1, whole.length / 97)) {
                Files.write(p, java.util.Arrays.copyOf(whole, n));
                var e = assertThrows(WeightFileException.class, () -> {
                    try (WeightFile f = WeightFile.open(p)) {
                        for (WeightEntry x : f.entries()) {
                            if (x.dtype().loadsAsFloat()) {
                                x.toTensor();
                            }
                        }
                    }
                }, name + " cut at " + n);
                assertEquals(p.toString(), e.file());
            }
        }
    }

    @Test
    void anEndRecordWhoseCommentRunsPastTheFileIsATypedError() throws IOException {
        // Found by WeightFuzz: ZipFile fails on it with a bare EOFException, not a ZipException.
        ZipBytes z = oneTensor(12, le(TWELVE));
        z.comment = "a comment of 32 bytes, cut here:".getBytes(StandardCharsets.US_ASCII);
        byte[] whole = z.bytes();
        Path p = write("comment.pth", java.util.Arrays.copyOf(whole, whole.length - 16));
        assertEquals(p + ": not a valid zip archive (" + (whole.length - 16) + " bytes; cut short?): the zip directory or its"
                + " comment runs past the end of the file", refused(p).getMessage());
    }

    @Test
    void aFileCutShorterWhileOpenFailsWithTheTensorAndTheBytes() throws IOException {
        Path pth = dir.resolve("views.pth");
        Files.copy(TestFiles.weights("views.pth"), pth);
        try (WeightFile f = WeightFile.open(pth)) {
            truncate(pth, 200);
            var e = assertThrows(WeightFileException.class, () -> f.tensor("transposed"));
            assertTrue(e.getMessage().startsWith(pth + ": tensor 'transposed': archive entry 'views/data/"), e.getMessage());
        }
        // 64 KiB of floats: pages of the mapping that a cut leaves wholly beyond the file's end fault when read.
        Path st = dir.resolve("big.safetensors");
        float[] values = new float[16384];
        for (int i = 0; i < values.length; i++) {
            values[i] = i;
        }
        SafetensorsWriter.write(st, Map.of("w", Tensor.of(values, values.length)));
        try (WeightFile f = WeightFile.open(st)) {
            long size = Files.size(st);
            truncate(st, 100);
            var e = assertThrows(WeightFileException.class, () -> f.tensor("w"));
            assertEquals(st + ": tensor 'w': the file is now 100 bytes, it was " + size + " when it was opened (cut short while in use?)",
                    e.getMessage());
        }
        // Cut between two pieces of one conversion: the fault itself becomes the typed error.
        SafetensorsWriter.write(st, Map.of("w", Tensor.of(values, values.length)), Map.of(), true);
        try (WeightFile f = WeightFile.open(st)) {
            var e = assertThrows(WeightFileException.class, () -> f.entry("w").readFloats(new float[1024], (v, n) -> truncate(st, 100)));
            assertTrue(e.getMessage().matches(java.util.regex.Pattern.quote(st.toString())
                    + ": tensor 'w': bytes \\[4096,8192\\) of the data section could not be read \\(the file shrank after it was"
                    + " opened\\?\\): .*"), e.getMessage());
        }
    }

    static void truncate(Path p, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    // ---- row 11: names that would drive a terminal -----------------------------------------------------

    @Test
    void namesFromTheFileAreEscapedInErrors() throws IOException {
        String esc = "\u001b]0;pwned\u0007\u001b[2J";
        byte[] pickle = new Pickles().proto(2).global("os" + esc, "system").stop().bytes();
        Path p = write("esc.pth", ZipBytes.torch("archive", pickle, List.of()).bytes());
        var e = refused(p);
        assertTrue(e.getMessage().contains("global 'os\\x1b]0;pwned\\x07\\x1b[2J.system' is not allowed"), e.getMessage());
        assertPrintable(e.getMessage());

        // A safetensors tensor name with a right-to-left override, mis-shaped for a model.
        Path st = dir.resolve("bidi.safetensors");
        SafetensorsWriter.write(st, Map.of("w\u202egnp.exe", Tensor.zeros(2)));
        try (WeightFile f = WeightFile.open(st)) {
            var x = assertThrows(WeightFileException.class, () -> StrictLoad.load(f, Map.of("w", new int[] {2})));
            assertEquals(st + ": 2 problems: missing 'w' [2]; unexpected 'w\\u202egnp.exe' F32[2]", x.getMessage());
        }
        // The raw name stays available to code that wants it.
        try (WeightFile f = WeightFile.open(st)) {
            assertEquals("w\u202egnp.exe", f.entries().getFirst().name());
        }
    }

    @Test
    void escapingIsIdempotentKeepsLettersAndCutsLongNames() {
        String s = "a\u001bb\u0085c\u200bd\ud800e\u00e9\u0436\u4e2d\ud83d\ude00\tf";
        String once = Printable.escape(s);
        assertEquals("a\\x1bb\\x85c\\u200bd\\ud800e\u00e9\u0436\u4e2d\ud83d\ude00\\x09f", once);
        assertEquals(once, Printable.escape(once));
        assertEquals("x".repeat(200) + "... (5000000 characters)", Printable.name("x".repeat(5_000_000)));
    }

    static void assertPrintable(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            assertFalse(c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || (c >= 0x202a && c <= 0x202e),
                    "raw control character U+" + Integer.toHexString(c) + " at " + i + " in " + s);
        }
    }

    // ---- row 12: special files are refused before they are opened ---------------------------------------

    @Test
    void aFifoADirectoryAndADeviceAreRefusedWithoutBeingOpened() throws Exception {
        Path fifo = dir.resolve("weights.pth");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        Map<Path, String> kinds = new LinkedHashMap<>();
        kinds.put(fifo, "a FIFO (named pipe)");
        kinds.put(dir, "a directory");
        kinds.put(Path.of("/dev/zero"), "a character device");
        for (var k : kinds.entrySet()) {
            String expected = k.getKey() + ": is " + k.getValue() + ", not a regular file; weight files are read only from regular files";
            // Opening a FIFO for reading would wait for a writer forever: each must fail at once.
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                assertEquals(expected, assertThrows(WeightFileException.class, () -> WeightFile.open(k.getKey())).getMessage());
                assertEquals(expected, assertThrows(WeightFileException.class, () -> PthFile.open(k.getKey())).getMessage());
                assertEquals(expected, assertThrows(WeightFileException.class, () -> SafetensorsFile.open(k.getKey())).getMessage());
            });
        }
    }

    // ---- row 13: formats Prism does not read are named -------------------------------------------------

    @Test
    void formatsPrismDoesNotReadAreNamedWithWhatToDo() throws IOException {
        Map<String, String> made = new LinkedHashMap<>();
        made.put("torchscript.pt", "this is a TorchScript archive (torch.jit.save), not a state_dict; save the model's weights"
                + " with torch.save(model.state_dict(), path)");
        made.put("whole_module.pth", "data.pkl byte 2: global 'torch.nn.modules.container.Sequential' is not allowed: Prism loads"
                + " only tensors (allowed: collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter"
                + " and torch.*Storage dtypes); this file holds a whole pickled nn.Module (torch.save(model)), not a state_dict:"
                + " save model.state_dict() instead");
        made.put("state_dict.pkl", "this is a bare pickle stream (protocol 4, e.g. from pickle.dump), not a torch.save archive;"
                + " Prism reads torch.save zip archives and safetensors: save the state_dict with torch.save(state_dict, path)");
        made.put("arrays.npz", "this is a NumPy .npz archive; Prism reads safetensors and torch.save archives");
        made.put("array.npy", "this is a NumPy .npy array; Prism reads safetensors and torch.save archives");
        made.put("fp32.pth.gz", "this is a gzip-compressed file; decompress it first (gunzip)");
        for (var m : made.entrySet()) {
            Path p = TestFiles.weights(m.getKey());
            assertEquals(p + ": " + m.getValue(), refused(p).getMessage());
        }
        Map<String, byte[]> heads = new LinkedHashMap<>();
        heads.put("this is a GGUF file (llama.cpp); Prism reads safetensors and torch.save archives", bytes("GGUF\3\0\0\0"));
        heads.put("this is an HDF5 file (e.g. Keras .h5 weights); Prism reads safetensors and torch.save archives",
                bytes("\u0089HDF\r\n\u001a\n\0\0"));
        heads.put("this is a Git LFS pointer, not the file it points to: fetch the file (git lfs pull)",
                bytes("version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 12345\n"));
        heads.put("this is an HTML or XML page, not a weight file (a download that returned an error page?)",
                bytes("\n  <!DOCTYPE html><html><body>404</body></html>"));
        heads.put("the file is empty (0 bytes)", new byte[0]);
        heads.put("not a weight file Prism reads: neither safetensors (an 8-byte header length, then a JSON object) nor a torch.save"
                + " zip archive (\"PK\\3\\4\"); it starts with 68 65 6c 6c 6f 2c 20 77 6f 72 6c 64 0a (\"hello, world.\")",
                bytes("hello, world\n"));
        int i = 0;
        for (var h : heads.entrySet()) {
            Path p = write("file" + i++ + ".safetensors", h.getValue());
            assertEquals(p + ": " + h.getKey(), refused(p).getMessage());
        }
        // The legacy format with any pickle protocol torch.save can be asked for.
        for (String head : new String[] {"80028a0a6cfc9c46f9206aa850192e", "8004950d000000000000008a0a6cfc9c46f9206aa850192e"}) {
            Path p = write("legacy" + i++ + ".pth", java.util.HexFormat.of().parseHex(head));
            assertTrue(refused(p).getMessage().startsWith(p + ": this is a legacy torch.save file"), head);
        }
    }

    @Test
    void aSafetensorsHeaderLengthThatStartsLikeAnotherFormatIsStillSafetensors() throws IOException {
        // Header lengths 0x280, 0x380, 0x480, 0x580 start with the bytes of a pickle's PROTO 2..5 (80 02 ...).
        for (int length : new int[] {0x280, 0x380, 0x480, 0x580}) {
            String json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
            byte[] header = (json + " ".repeat(length - json.length())).getBytes(StandardCharsets.US_ASCII);
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + length + 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.putLong(length).put(header).putFloat(2.5f);
            Path p = write("h" + length + ".safetensors", b.array());
            try (WeightFile f = WeightFile.open(p)) {
                assertArrayEquals(new float[] {2.5f}, f.tensor("w").data());
            }
        }
    }

    static byte[] bytes(String latin1) {
        return latin1.getBytes(StandardCharsets.ISO_8859_1);
    }

    // ---- streaming: what convert reads ---------------------------------------------------------------

    @Test
    void readingInPiecesGivesTheSameValuesAsToTensor() throws IOException {
        for (String name : new String[] {"views.pth", "halves.pth", "mixed.safetensors", "f32.safetensors"}) {
            try (WeightFile f = WeightFile.open(TestFiles.weights(name))) {
                for (WeightEntry e : f.entries()) {
                    if (!e.dtype().loadsAsFloat()) {
                        continue;
                    }
                    float[] whole = e.toTensor().data();
                    for (int buffer : new int[] {1, 7, 1 << 16}) {
                        List<Float> got = new ArrayList<>();
                        e.readFloats(new float[buffer], (v, n) -> {
                            assertTrue(n >= 1 && n <= buffer);
                            for (int k = 0; k < n; k++) {
                                got.add(v[k]);
                            }
                        });
                        float[] pieces = new float[got.size()];
                        for (int k = 0; k < pieces.length; k++) {
                            pieces[k] = got.get(k);
                        }
                        Arrays32.assertIdentical(name + " " + e.name() + " in pieces of " + buffer, whole, pieces);
                    }
                }
            }
        }
    }

    @Test
    void writingEntriesStreamsTheSameFileAsWritingTheirTensors() throws IOException {
        try (WeightFile f = WeightFile.open(TestFiles.weights("views.pth"))) {
            List<WeightEntry> floats = f.entries().stream().filter(e -> e.dtype().loadsAsFloat()).map(e -> (WeightEntry) e).toList();
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            floats.forEach(e -> tensors.put(e.name(), e.toTensor()));
            Path streamed = dir.resolve("streamed.safetensors");
            Path whole = dir.resolve("whole.safetensors");
            SafetensorsWriter.writeEntries(streamed, floats, Map.of("k", "v"), false);
            SafetensorsWriter.write(whole, tensors, Map.of("k", "v"), false);
            assertArrayEquals(Files.readAllBytes(whole), Files.readAllBytes(streamed));
            var e = assertThrows(WeightFileException.class,
                    () -> SafetensorsWriter.writeEntries(dir.resolve("int.safetensors"), List.of(f.entry("steps")), Map.of(), false));
            assertEquals(dir.resolve("int.safetensors") + ": tensor 'steps': dtype I64 cannot be written as F32 (expected F32, F16 or BF16)",
                    e.getMessage());
            assertFalse(Files.exists(dir.resolve("int.safetensors")));
        }
    }
}
