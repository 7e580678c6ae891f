package dev.prism.nn.io;

import dev.prism.kernels.ArgumentException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pickles built to exhaust memory ("decompression bombs") against {@link PickleLimits}: each fails at the
 * limit it attacks, naming it, and the costliest pickles that stay within every default read in this
 * JVM's heap. Runs in the nn module's {@code heap-256m} surefire execution ({@code -Xmx256m}); the
 * bounded-heap tests skip in the other executions, where the heap is not what they are about.
 */
@Timeout(60)
class PickleBombTest {
    @TempDir
    static Path dir;

    static final PickleLimits D = PickleLimits.DEFAULT;

    @BeforeAll
    static void heap() {
        System.out.println("PickleBombTest: heap " + Runtime.getRuntime().maxMemory() / 1048576 + " MiB");
    }

    static boolean boundedHeap() {
        return Runtime.getRuntime().maxMemory() <= 256L << 20;
    }

    /** {@code pickle} as the data.pkl of a torch.save-style archive with the given storages, written to {@code name}. */
    static Path archive(String name, byte[] pickle, boolean deflate, byte[]... storages) throws IOException {
        ZipBytes z = ZipBytes.torch("archive", pickle, List.of(storages));
        if (deflate) {
            z.entries.set(0, new ZipBytes().add("archive/data.pkl", pickle, true));
        }
        Path p = dir.resolve(name);
        Files.write(p, z.bytes());
        return p;
    }

    static WeightFileException refused(Path p, PickleLimits limits) {
        return assertThrows(WeightFileException.class, () -> WeightFile.open(p, limits).close(), p.toString());
    }

    /** {"a": [set(), set(), ...]}: one byte of pickle per object. */
    static byte[] sets(long n) {
        Pickles p = new Pickles().proto(2).emptyDict().str("a").emptyList().mark();
        for (long i = 0; i < n; i++) {
            p.op(0x8f);
        }
        return p.appends().setitem().stop().bytes();
    }

    /** d0 = {"0": tensor}, d(i+1) = {"0": d(i), "1": d(i)}: 2^levels names from a few hundred bytes. */
    static byte[] sharedDicts(int levels, String key) {
        Pickles p = new Pickles().proto(2).emptyDict().longBinput(0).str(key).floatTensor("0", 1).setitem();
        for (int i = 1; i <= levels; i++) {
            p.emptyDict().mark().str(key + "0").longBinget(i - 1).str(key + "1").longBinget(i - 1).setitems().longBinput(i);
        }
        return p.stop().bytes();
    }

    @Test
    void aMillionObjectsInAOneKilobyteFileStopAtTheObjectsLimit() throws IOException {
        Path bomb = archive("sets.pth", sets(1_000_000), true);
        assertTrue(Files.size(bomb) < 4096, Files.size(bomb) + " bytes");
        var e = refused(bomb, D);
        assertTrue(e.getMessage().matches(".*: data\\.pkl byte \\d+: more than 524288 values, the pickle limit objects=524288; "
                + "a state_dict needs far less \\(raise the limit only for a file you trust\\)"), e.getMessage());
        // Raised, the same file reads: a dict whose one value is a list, so no tensors.
        try (PthFile f = PthFile.open(bomb, D.with("objects", 2_000_000))) {
            assertEquals(List.of("a"), f.ignored());
            assertEquals(1_000_005, f.pickleUsage().objects());
        }
    }

    @Test
    void sharedDictsWithLongKeysStopAtTheBytesLimit() throws IOException {
        // 2^24 dotted names of 24 keys of 2,000 characters: terabytes of names from a 100 KB pickle.
        Path bomb = archive("names.pth", sharedDicts(24, "k".repeat(2000)), true, new byte[4]);
        assertTrue(Files.size(bomb) < 4096, Files.size(bomb) + " bytes");
        var e = refused(bomb, D);
        assertTrue(e.getMessage().endsWith(": data.pkl: more than 33554432 bytes materialised, the pickle limit bytes=33554432;"
                + " a state_dict needs far less (raise the limit only for a file you trust)"), e.getMessage());
    }

    @Test
    void sharedDictsWithShortKeysStopAtTheObjectsLimit() throws IOException {
        var e = refused(archive("visits.pth", sharedDicts(24, ""), false, new byte[4]), D);
        assertTrue(e.getMessage().endsWith(": data.pkl: more than 524288 values, the pickle limit objects=524288;"
                + " a state_dict needs far less (raise the limit only for a file you trust)"), e.getMessage());
    }

    @Test
    void deepDictsStopAtTheDepthLimit() throws IOException {
        Pickles p = new Pickles().proto(2);
        for (int i = 0; i < 100; i++) {
            p.emptyDict().str("d");
        }
        p.emptyDict();
        for (int i = 0; i < 100; i++) {
            p.setitem();
        }
        Path bomb = archive("deep.pth", p.stop().bytes(), false);
        var e = refused(bomb, D);
        assertTrue(e.getMessage().contains(": dicts nested deeper than 32 levels at 'd.d.d."), e.getMessage());
        assertTrue(e.getMessage().endsWith("', the pickle limit depth=32; a state_dict needs far less (raise the limit only for a file you trust)"),
                e.getMessage());
        try (PthFile f = PthFile.open(bomb, D.with("depth", 101))) {
            assertEquals(101, f.pickleUsage().depth());
        }
    }

    @Test
    void memoEntriesStopAtTheMemoLimit() throws IOException {
        Pickles p = new Pickles().proto(2).emptyDict();
        for (int i = 0; i < 300_000; i++) {
            p.longBinput(i);
        }
        var e = refused(archive("memo.pth", p.stop().bytes(), true), D);
        assertTrue(e.getMessage().contains(": more than 262144 memo entries, the pickle limit memo=262144;"), e.getMessage());
    }

    @Test
    void aDataPklThatInflatesBeyondTheBytesLimitIsNotReadWhole() throws IOException {
        // 64 MiB of NONE opcodes deflate to some 64 KB.
        byte[] pickle = new byte[64 << 20];
        java.util.Arrays.fill(pickle, (byte) 'N');
        ZipBytes z = new ZipBytes();
        ZipBytes.Entry pkl = z.add("archive/data.pkl", pickle, true);
        pickle = null;
        pkl.cenSize = pkl.locSize = 100; // a small declared size does not let the rest through
        Path bomb = dir.resolve("inflate.pth");
        Files.write(bomb, z.bytes());
        var e = refused(bomb, D);
        assertTrue(e.getMessage().matches(".*: 'archive/data\\.pkl' inflates to more than 3355\\d{4} bytes, above the pickle limit"
                + " bytes=33554432 \\(\\d+ of them taken by the zip directory\\); a state_dict needs far less .*"), e.getMessage());
    }

    @Test
    void textNumbersLongerThanPythonReadsAreRefusedBeforeTheyAreParsed() {
        // BigInteger parses decimal text in quadratic time: a few megabytes of digits would take minutes.
        byte[] digits = "9".repeat(4_000_000).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] pickle = new Pickles().proto(2).op('L').raw(digits).raw("L\n").stop().bytes();
        var e = assertThrows(WeightFileException.class, () -> TorchPickle.parse("long.pth", pickle));
        assertEquals("long.pth: data.pkl byte 3: a text number of 4000001 characters; at most 4300 are read (as Python's int() does)",
                e.getMessage());
    }

    @Test
    void appendsExtendsInPlaceSoManySmallAppendsStayLinear() {
        // Pyrolite copies the list on every APPENDS: 200,000 of them on a growing list would copy 10^10 references.
        Pickles p = new Pickles().proto(2).emptyDict().str("a").emptyList();
        for (int i = 0; i < 200_000; i++) {
            p.mark().op('N').appends();
        }
        TorchPickle.Parsed parsed = TorchPickle.parse("appends.pth", p.setitem().stop().bytes());
        assertEquals(List.of("a"), parsed.ignored());
    }

    @Test
    void everyCheckpointOfTheTestSuiteUsesAtMostTwoPercentOfEachDefault() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Stream.concat(Files.list(TestFiles.weights("fp32.pth").getParent()),
                Files.list(TestFiles.weights("fp32.pth").getParent().resolveSibling("models")))) {
            files = s.filter(f -> f.toString().endsWith(".pth")).sorted().toList();
        }
        int read = 0;
        long tensors = 0;
        long objects = 0;
        long memo = 0;
        long bytes = 0;
        for (Path f : files) {
            PthFile pth;
            try {
                pth = PthFile.open(f);
            } catch (WeightFileException refused) {
                // crafted_*, evil_system, legacy and whole_module are refused for what they hold, never for a limit
                assertTrue(!refused.getMessage().contains("pickle limit"), refused.getMessage());
                continue;
            }
            try (pth) {
                TorchPickle.Usage u = pth.pickleUsage();
                assertTrue(u.objects() <= D.objects() / 50 && u.depth() <= 2 && u.memo() <= D.memo() / 50
                        && u.bytes() <= D.bytes() / 50, f + ": " + u);
                read++;
                tensors += pth.entries().size() + pth.ignored().size();
                objects += u.objects();
                memo += u.memo();
                bytes += u.bytes();
            }
        }
        assertTrue(read >= 18, read + " files read");
        System.out.printf(java.util.Locale.ROOT, "PickleBombTest: %d files, %d tensors: %.1f objects, %.1f memo entries, %.0f bytes per tensor%n",
                read, tensors, objects / (double) tensors, memo / (double) tensors, bytes / (double) tensors);
    }

    @Test
    void aPickleAtEveryDefaultLimitAtOnceReadsIn256MiB() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(boundedHeap(), "runs in the heap-256m execution");
        // {"a": [set() ...], "b": "<string>"}: sets to the objects limit, memo entries to the memo limit,
        // a string that takes the bytes limit (as data.pkl and again as a String); the costliest per byte found.
        long memo = D.memo() - 1;
        long sets = D.objects() - 12;
        Pickles p = new Pickles().proto(2).emptyDict().mark().str("a").emptyList().mark();
        for (long i = 0; i < sets; i++) {
            p.op(0x8f);
            if (i < memo) {
                p.longBinput((int) i);
            }
        }
        p.appends();
        int chars = (int) ((D.bytes() - p.size() - 4096) / 2);
        p.str("b").str("\u0436".repeat(chars / 2)).setitems().stop();
        Path worst = archive("worst.pth", p.bytes(), false);
        p = null;
        try (PthFile f = PthFile.open(worst)) {
            TorchPickle.Usage u = f.pickleUsage();
            assertTrue(u.objects() > D.objects() - 16 && u.memo() == memo && u.bytes() > D.bytes() - 8192, u.toString());
        }
    }

    @Test
    void halfAMillionTensorsSharingOneStorageReadIn256MiB() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(boundedHeap(), "runs in the heap-256m execution");
        // 720 dicts of the same 720 tensors: 518,400 names, as many entries, within the objects limit.
        int k = 720;
        Pickles p = new Pickles().proto(2).floatTensor("0", 1).longBinput(0).emptyDict().mark();
        for (int i = 0; i < k; i++) {
            p.str(Integer.toString(i, 36)).longBinget(0);
        }
        p.setitems().longBinput(1).emptyDict().mark();
        for (int i = 0; i < k; i++) {
            p.str(Integer.toString(i, 36)).longBinget(1);
        }
        Path fan = archive("fan.pth", p.setitems().stop().bytes(), false, new byte[4]);
        try (PthFile f = PthFile.open(fan)) {
            assertEquals(k * k, f.entries().size());
        }
    }

    @Test
    void limitsAreParsedFromKeyValueItemsAndNameTheBadOne() {
        assertEquals(new PickleLimits(7, 32, 262144, 512L << 20), PickleLimits.parse(D, List.of("objects=7", "bytes=512m")));
        assertEquals(D, PickleLimits.parse(D, null));
        assertEquals("objects=524288,depth=32,memo=262144,bytes=33554432", D.toString());
        assertEquals(D, PickleLimits.parse(new PickleLimits(1, 1, 1, 1), List.of(D.toString().split(","))));
        var e = assertThrows(ArgumentException.class, () -> PickleLimits.parse(D, List.of("size=3")));
        assertEquals("pickle limit expected one of objects, depth, memo, bytes, found 'size'", e.getMessage());
        e = assertThrows(ArgumentException.class, () -> PickleLimits.parse(D, List.of("objects=lots")));
        assertEquals("pickle limit expected objects=<integer>[k|m|g], found 'objects=lots'", e.getMessage());
        e = assertThrows(ArgumentException.class, () -> PickleLimits.parse(D, List.of("depth=0")));
        assertEquals("pickle limit expected depth >= 1, found 0", e.getMessage());
        e = assertThrows(ArgumentException.class, () -> PickleLimits.parse(D, List.of("bytes=99999999999g")));
        assertEquals("pickle limit expected bytes=<integer>[k|m|g], found 'bytes=99999999999g'", e.getMessage());
    }
}
