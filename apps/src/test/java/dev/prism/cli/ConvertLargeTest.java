package dev.prism.cli;

import dev.prism.nn.io.Pickles;
import dev.prism.nn.io.SafetensorsFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code prism convert} on a checkpoint more than four times the size of the JVM's heap (issue 11 row 3), and
 * interrupted with Ctrl-C (row 8), each in a child JVM started as a user starts the CLI. The checkpoint
 * is a torch.save-style archive of four 80 MB float tensors, written here block by block.
 */
class ConvertLargeTest {
    @TempDir
    static Path dir;

    static final int TENSORS = 4;
    /** Floats per tensor: 80 MB each, so one tensor alone exceeds the child's 64 MiB heap. */
    static final int N = 20_000_000;
    static final String HEAP = "-Xmx64m";
    static Path big;

    /** The value of element {@code i} of tensor {@code t}: an integer below 2^16, exact in fp32. */
    static float value(int t, long i) {
        return (float) ((t * 7919L + i * 31) % 65521);
    }

    @BeforeAll
    static void writeCheckpoint() throws IOException {
        big = dir.resolve("big.pth");
        String[] names = new String[TENSORS];
        long[][] shapes = new long[TENSORS][];
        for (int t = 0; t < TENSORS; t++) {
            names[t] = "layer" + t + ".weight";
            shapes[t] = new long[] {N / 1000, 1000};
        }
        byte[] pickle = Pickles.stateDict(names, shapes);
        List<String> entryNames = new ArrayList<>();
        List<long[]> entries = new ArrayList<>(); // crc, size, offset
        try (FileChannel ch = FileChannel.open(big, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            CRC32 crc = new CRC32();
            crc.update(pickle);
            entryNames.add("archive/data.pkl");
            entries.add(new long[] {crc.getValue(), pickle.length, ch.position()});
            local(ch, "archive/data.pkl", crc.getValue(), pickle.length);
            write(ch, ByteBuffer.wrap(pickle));
            ByteBuffer block = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (int t = 0; t < TENSORS; t++) {
                crc.reset();
                for (long i = 0; i < N; ) { // first pass: the CRC, which the local header holds before the data
                    i = fill(block, t, i);
                    crc.update(block);
                }
                String name = "archive/data/" + t;
                entryNames.add(name);
                entries.add(new long[] {crc.getValue(), 4L * N, ch.position()});
                local(ch, name, crc.getValue(), 4L * N);
                for (long i = 0; i < N; ) {
                    i = fill(block, t, i);
                    write(ch, block);
                }
            }
            long cen = ch.position();
            for (int e = 0; e < entries.size(); e++) {
                byte[] n = entryNames.get(e).getBytes(StandardCharsets.UTF_8);
                long[] x = entries.get(e);
                ByteBuffer h = header(46 + n.length).putInt(0x02014b50).putShort((short) 20).putShort((short) 20).putShort((short) 0)
                        .putShort((short) 0).putShort((short) 0).putShort((short) 0x21).putInt((int) x[0]).putInt((int) x[1])
                        .putInt((int) x[1]).putShort((short) n.length).putShort((short) 0).putShort((short) 0).putShort((short) 0)
                        .putShort((short) 0).putInt(0).putInt((int) x[2]).put(n);
                write(ch, h.flip());
            }
            long cenSize = ch.position() - cen;
            write(ch, header(22).putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) entries.size())
                    .putShort((short) entries.size()).putInt((int) cenSize).putInt((int) cen).putShort((short) 0).flip());
        }
    }

    /** Fills {@code block} with tensor {@code t}'s elements from {@code from}; returns the next element. */
    static long fill(ByteBuffer block, int t, long from) {
        block.clear();
        long i = from;
        while (block.remaining() >= 4 && i < N) {
            block.putFloat(value(t, i++));
        }
        block.flip();
        return i;
    }

    static ByteBuffer header(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    static void local(FileChannel ch, String name, long crc, long size) throws IOException {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        write(ch, header(30 + n.length).putInt(0x04034b50).putShort((short) 20).putShort((short) 0).putShort((short) 0)
                .putShort((short) 0).putShort((short) 0x21).putInt((int) crc).putInt((int) size).putInt((int) size)
                .putShort((short) n.length).putShort((short) 0).put(n).flip());
    }

    static void write(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** {@code prism <args>} in its own JVM with a 64 MiB heap, output to {@code log}. */
    static Process child(Path log, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), HEAP,
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    static List<String> listing(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aCheckpointOverFourTimesTheHeapConvertsAndEveryValueSurvives() throws Exception {
        assertTrue(Files.size(big) > 4L * (64 << 20), Files.size(big) + " bytes");
        Path out = Files.createDirectory(dir.resolve("converted")).resolve("big.safetensors");
        Path log = dir.resolve("convert.log");
        Process p = child(log, "convert", big.toString(), out.toString());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "convert did not finish");
        String printed = Files.readString(log);
        assertEquals(0, p.exitValue(), printed);
        assertTrue(printed.contains("wrote " + out + ": 4 tensors, 80000000 parameters, fp32, from " + big), printed);
        assertEquals(List.of("big.safetensors"), listing(out.getParent()));
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals(TENSORS, f.entries().size());
            SplittableRandom r = new SplittableRandom(3);
            ValueLayout.OfFloat le = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            for (int t = 0; t < TENSORS; t++) {
                SafetensorsFile.Entry e = f.entry("layer" + t + ".weight");
                assertEquals(N, e.numel());
                for (int k = 0; k < 2000; k++) {
                    long i = k == 0 ? 0 : k == 1 ? N - 1 : r.nextLong(N);
                    assertEquals(value(t, i), e.bytes().get(le, 4 * i), "layer" + t + " element " + i);
                }
            }
        }
    }

    @Test
    void ctrlCDuringConvertLeavesNoTemporaryFile() throws Exception {
        // The child is stopped (SIGSTOP) as soon as its temporary file appears, SIGINT is sent while it is stopped,
        // and then it is continued, so the interrupt arrives while the temporary file exists. On a quiet machine the
        // rest of the write can still finish before the JVM's shutdown starts (the whole conversion takes about a
        // second); AtomicWrite's contract covers both: exit 130 with nothing in the directory, or a finished run
        // with the complete target. Never a temporary file, never a partial target.
        Path target = Files.createDirectory(dir.resolve("interrupted"));
        Path out = target.resolve("big.safetensors");
        Path log = dir.resolve("interrupted.log");
        Process p = child(log, "convert", big.toString(), out.toString());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (listing(target).isEmpty() && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertTrue(p.isAlive(), "convert ended before it could be interrupted: " + Files.readString(log));
        signal("STOP", p);
        List<String> during = listing(target);
        signal("INT", p);
        signal("CONT", p);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "convert did not stop on SIGINT");
        String printed = Files.readString(log);
        if (during.size() == 1 && during.getFirst().matches("\\.big\\.safetensors\\.[0-9a-f]{16}\\.tmp") && p.exitValue() == 130) {
            assertEquals(List.of(), listing(target), "left behind after Ctrl-C: " + printed);
            return;
        }
        // the write finished first: the run must have ended normally with the whole file
        assertEquals(0, p.exitValue(), "neither the JVM's status on SIGINT (130) nor a finished run: " + printed);
        assertEquals(List.of("big.safetensors"), listing(target), printed);
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals(TENSORS, f.entries().size());
            assertEquals(N, f.entry("layer" + (TENSORS - 1) + ".weight").numel());
        }
    }

    private static void signal(String name, Process p) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + name, String.valueOf(p.pid())).start().waitFor(), "kill -" + name);
    }
}
