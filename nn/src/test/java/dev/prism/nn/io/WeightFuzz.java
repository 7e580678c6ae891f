package dev.prism.nn.io;

import dev.prism.nn.ModelWeights;
import dev.prism.nn.models.Models;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A generator-based fuzzer for the weight-file readers: it builds hostile files from their structure rather
 * than only flipping bytes of good ones, so that inputs get past the first checks and reach the code behind
 * them. Four targets:
 * <ul>
 *   <li>{@link Target#PICKLE}: pickle programs generated opcode by opcode from a random value tree (tensors with
 *       random storages, views, dtypes and sizes; dicts, lists, tuples, sets; shared and memoised values; allowed
 *       and forbidden globals; nesting thousands deep), then mutated at the opcode level (dropped, repeated,
 *       swapped and foreign opcodes), read by {@link TorchPickle#parse}.</li>
 *   <li>{@link Target#ZIP}: torch.save-style archives ({@link ZipBytes}) whose every field may lie: compression
 *       methods, flags, CRCs, sizes in the central and local headers, offsets, extra fields, names, missing or
 *       duplicate records, the end record's counts and offsets, comments, trailing bytes; opened with
 *       {@link WeightFile#open}, every float tensor converted and streamed to a safetensors file.</li>
 *   <li>{@link Target#SAFETENSORS}: headers built as JSON with hostile values (dtypes, shapes, offsets, names,
 *       nesting, numbers beyond 64 bits) and {@code __metadata__} whose {@code model} and {@code options} feed
 *       model construction ({@link Models#build}) and a strict load ({@link ModelWeights#load}).</li>
 *   <li>{@link Target#MUTATED}: byte-level mutations (bit flips, interesting values, inserted, deleted and
 *       spliced ranges) of the test suite's weight files and of generated ones.</li>
 * </ul>
 * Every input must either be read or fail with a {@link WeightFileException} naming the input (for the model
 * construction of a safetensors target, any {@link IllegalArgumentException}: a bad option value); anything
 * else, an input that takes longer than the per-input time limit, or an {@link OutOfMemoryError} is a crash,
 * reported with the target and the seed that regenerates the input ({@link #generate}).
 *
 * <p>Model sizes from metadata are drawn up to what builds in a few MiB (width up to 64, levels up to 4, ...)
 * unless {@code hugeSizes} is set: refusing sizes too large for the heap before allocating is model
 * construction's part of issue 11 (row 4), not the readers'.
 *
 * <p>The default test run ({@code WeightFuzzTest}) tries a fixed number of inputs per target; a long run:
 * <pre>
 * JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 ./mvnw -B -o -pl tornado-kernels,nn test-compile surefire:test@heap-256m \
 *     -Dtest=WeightFuzzTest -Dsurefire.failIfNoSpecifiedTests=false -Dprism.fuzz.seconds=600 [-Dprism.fuzz.seed=N] \
 *     [-Dprism.fuzz.hugeSizes=true]
 * </pre>
 * ({@code surefire:test@heap-256m} runs only the 256 MiB execution; a crash prints its target and seed, and
 * {@code -Dprism.fuzz.replay=TARGET:SEED} feeds that input again.)
 */
public final class WeightFuzz {
    /** What an input is built as and fed to. */
    public enum Target { PICKLE, ZIP, SAFETENSORS, MUTATED }

    /** An input that neither read nor failed with the typed error: its target, its seed, and what happened. */
    public record Crash(Target target, long seed, String what) {
        @Override
        public String toString() {
            return target + " seed " + seed + ": " + what;
        }
    }

    /** What a run did: inputs per target, how they ended (by kind of message), and the crashes. */
    public record Summary(Map<Target, Long> inputs, Map<String, Long> outcomes, List<Crash> crashes, long millis) {
        public long total() {
            return inputs.values().stream().mapToLong(Long::longValue).sum();
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%d inputs in %.1f s %s, %d crashes; %d kinds of outcome",
                    total(), millis / 1000.0, inputs, crashes.size(), outcomes.size()));
            crashes.stream().limit(20).forEach(c -> b.append("\n  crash: ").append(c));
            return b.toString();
        }
    }

    private final Path scratch;
    private final Duration perInput;
    private final boolean hugeSizes;
    private final List<byte[]> seeds;
    private ExecutorService worker = newWorker();

    /**
     * @param scratch   a directory for the files the ZIP target writes and reads
     * @param perInput  the time one input may take
     * @param hugeSizes whether metadata may ask for models of any size (see the class comment)
     * @param seeds     files the MUTATED target starts from
     */
    public WeightFuzz(Path scratch, Duration perInput, boolean hugeSizes, List<byte[]> seeds) {
        this.scratch = scratch;
        this.perInput = perInput;
        this.hugeSizes = hugeSizes;
        this.seeds = seeds;
    }

    private static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "weight-fuzz");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Runs inputs with seeds drawn from {@code seed}, round-robin over the targets, until {@code count} inputs per
     * target have run or {@code budget} has passed, whichever comes first.
     */
    public Summary run(long seed, long count, Duration budget) {
        SplittableRandom master = new SplittableRandom(seed);
        Map<Target, Long> inputs = new LinkedHashMap<>();
        Map<String, Long> outcomes = new TreeMap<>();
        List<Crash> crashes = new ArrayList<>();
        long start = System.nanoTime();
        long end = start + budget.toNanos();
        for (long i = 0; i < count && System.nanoTime() < end; i++) {
            for (Target t : Target.values()) {
                long s = master.nextLong();
                String outcome = check(t, s);
                inputs.merge(t, 1L, Long::sum);
                if (outcome.startsWith("CRASH ")) {
                    crashes.add(new Crash(t, s, outcome.substring(6)));
                } else {
                    outcomes.merge(t + " " + outcome, 1L, Long::sum);
                }
            }
        }
        return new Summary(inputs, outcomes, crashes, (System.nanoTime() - start) / 1_000_000);
    }

    /** Generates the input of {@code target} for {@code seed} and feeds it; returns its outcome, "CRASH ..." for a crash. */
    public String check(Target target, long seed) {
        return outcome(() -> feed(target, generate(target, seed)));
    }

    /** Runs {@code feed} on the worker under the per-input time limit; its outcome, "CRASH ..." for a crash. */
    String outcome(java.util.concurrent.Callable<String> feed) {
        Future<String> f = worker.submit(feed);
        try {
            return f.get(perInput.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            worker.shutdownNow();
            worker = newWorker(); // the stuck thread is a daemon and is left behind
            return "CRASH took longer than " + perInput.toSeconds() + " s";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "CRASH interrupted";
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            return "CRASH " + c.getClass().getName() + ": " + Printable.name(String.valueOf(c.getMessage()))
                    + " at " + (c.getStackTrace().length > 0 ? c.getStackTrace()[0] : "?");
        }
    }

    // ---- feeding ------------------------------------------------------------------------------------

    private static final String SOURCE = "fuzz-input";

    /** Feeds one input; returns "read" or "refused: <kind of message>", throws for anything else. */
    private String feed(Target target, byte[] input) throws IOException {
        try {
            switch (target) {
                case PICKLE -> {
                    TorchPickle.Parsed p = TorchPickle.parse(SOURCE, input);
                    for (TorchPickle.TensorRef t : p.tensors().values()) {
                        if (t.numel() > 0 && t.lastElement() >= t.storage().numel()) {
                            throw new AssertionError("a view beyond its storage was accepted");
                        }
                    }
                }
                case SAFETENSORS -> {
                    try (SafetensorsFile f = SafetensorsFile.of(SOURCE, MemorySegment.ofArray(input))) {
                        convertAll(f);
                        construct(f);
                    }
                }
                case ZIP, MUTATED -> {
                    Path file = scratch.resolve(SOURCE);
                    Files.write(file, input);
                    try (WeightFile f = WeightFile.open(file)) {
                        convertAll(f);
                        if (f.entries().stream().allMatch(e -> e.dtype().loadsAsFloat() && e.numel() <= 1 << 16)) {
                            Path out = scratch.resolve("fuzz-output.safetensors");
                            try {
                                SafetensorsWriter.writeEntries(out, f.entries(), f.metadata(), true);
                            } catch (IllegalArgumentException e) {
                                // Names safetensors cannot hold ('__metadata__'): refused by the writer, naming the output.
                                if (e instanceof WeightFileException || !e.getMessage().startsWith(out + ": ")) {
                                    throw e;
                                }
                                return "convert refused: " + kind(e.getMessage().substring(out.toString().length() + 2));
                            }
                            try (WeightFile back = WeightFile.open(out)) {
                                if (back.entries().size() != f.entries().size()) {
                                    throw new AssertionError("converted " + back.entries().size() + " of " + f.entries().size());
                                }
                            }
                        }
                    } finally {
                        Files.deleteIfExists(file);
                    }
                }
            }
            return "read";
        } catch (WeightFileException e) {
            if (!e.file().endsWith(SOURCE)) {
                throw new AssertionError("the error does not name the input: " + e.getMessage(), e);
            }
            return "refused: " + kind(e.problem());
        } catch (ModelError e) {
            return "model refused: " + kind(e.getCause().getMessage());
        }
    }

    /** Converts every float tensor of a bounded size whole and in pieces, and checks that both agree. */
    private static void convertAll(WeightFile f) throws IOException {
        for (WeightEntry e : f.entries()) {
            if (e.dtype().loadsAsFloat() && e.numel() <= 1 << 20) {
                float[] whole = e.toTensor().data();
                int[] at = {0};
                e.readFloats(new float[97], (v, n) -> {
                    for (int i = 0; i < n; i++) {
                        if (Float.floatToRawIntBits(v[i]) != Float.floatToRawIntBits(whole[at[0] + i])) {
                            throw new AssertionError("tensor '" + e.name() + "' element " + (at[0] + i) + " differs in pieces");
                        }
                    }
                    at[0] += n;
                });
                if (at[0] != whole.length) {
                    throw new AssertionError("tensor '" + e.name() + "': " + at[0] + " elements in pieces, " + whole.length + " whole");
                }
            }
        }
    }

    /** A model's options refused: the typed error of model construction, not the reader's. */
    private static final class ModelError extends RuntimeException {
        ModelError(IllegalArgumentException cause) {
            super(cause);
        }
    }

    /** What {@code prism sample} does with a safetensors file's metadata: build the model it names and load into it. */
    private static void construct(SafetensorsFile f) {
        String model = f.metadata().get("model");
        if (model == null) {
            return;
        }
        Models.Built built;
        try {
            built = Models.build(model, Models.fromJson(f.metadata().get("options")), 0);
        } catch (WeightFileException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ModelError(e);
        }
        ModelWeights.load(built.module(), f, null);
    }

    /** The first words of a message with numbers and quoted names removed: how inputs end, in kinds. */
    static String kind(String message) {
        String s = String.valueOf(message).replaceAll("'[^']*'", "'_'").replaceAll("-?\\d+", "N");
        String[] words = s.split(" ");
        return String.join(" ", java.util.Arrays.copyOf(words, Math.min(6, words.length)));
    }

    // ---- generating ---------------------------------------------------------------------------------

    /** The input of {@code target} for {@code seed}: the same bytes every time. */
    public byte[] generate(Target target, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return switch (target) {
            case PICKLE -> pickle(r).bytes();
            case ZIP -> zip(r);
            case SAFETENSORS -> safetensors(r);
            case MUTATED -> mutate(r);
        };
    }

    /** A pickle program, kept as its opcodes so that it can be mutated opcode by opcode. */
    static final class Program {
        final List<byte[]> ops = new ArrayList<>();
        int memo;

        Program op(byte[] bytes) {
            ops.add(bytes);
            return this;
        }

        Program op(Pickles p) {
            return op(p.bytes());
        }

        byte[] bytes() {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            ops.forEach(b::writeBytes);
            return b.toByteArray();
        }
    }

    private static final String[] STORAGES = {"FloatStorage", "HalfStorage", "BFloat16Storage", "DoubleStorage", "LongStorage",
            "IntStorage", "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage", "ComplexFloatStorage", "QInt8Storage"};

    /** Interesting integers: boundaries of int, long and of what views and storages accept. */
    private static long interesting(SplittableRandom r) {
        long[] v = {0, 1, 2, 3, -1, 127, 128, 255, 256, 65535, 65536, Integer.MAX_VALUE, Integer.MAX_VALUE - 8, 1L << 31,
                -(1L << 31), 1L << 32, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 62, 1L << 40};
        return r.nextInt(3) == 0 ? r.nextLong(-4, 64) : v[r.nextInt(v.length)];
    }

    /** A pickle: a dict of named values, or another top-level value, then opcode-level mutations. */
    Program pickle(SplittableRandom r) {
        Program p = new Program();
        p.op(new Pickles().proto(r.nextInt(8) == 0 ? r.nextInt(7) : 2 + r.nextInt(4)));
        if (r.nextInt(10) == 0) {
            value(p, r, 4);
        } else {
            p.op(r.nextBoolean() ? new Pickles().orderedDict() : new Pickles().emptyDict());
            int n = r.nextInt(12);
            if (r.nextBoolean()) {
                p.op(new Pickles().mark());
                for (int i = 0; i < n; i++) {
                    p.op(new Pickles().str(name(r)));
                    entry(p, r);
                }
                p.op(new Pickles().setitems());
            } else {
                for (int i = 0; i < n; i++) {
                    p.op(new Pickles().str(name(r)));
                    entry(p, r);
                    p.op(new Pickles().setitem());
                }
            }
        }
        p.op(new Pickles().stop());
        int mutations = r.nextInt(4) == 0 ? 0 : r.nextInt(4);
        for (int m = 0; m < mutations && !p.ops.isEmpty(); m++) {
            int at = r.nextInt(p.ops.size());
            switch (r.nextInt(5)) {
                case 0 -> p.ops.remove(at);
                case 1 -> p.ops.add(at, p.ops.get(r.nextInt(p.ops.size())));
                case 2 -> java.util.Collections.swap(p.ops, at, r.nextInt(p.ops.size()));
                case 3 -> p.ops.add(at, foreignOp(r));
                default -> p.ops.set(at, flip(r, p.ops.get(at)));
            }
        }
        return p;
    }

    /** One value of a state_dict: mostly a tensor, sometimes a nested dict, a bomb-like structure or anything. */
    private void entry(Program p, SplittableRandom r) {
        switch (r.nextInt(10)) {
            case 0 -> value(p, r, 3);
            case 1 -> deep(p, r);
            case 2 -> shared(p, r);
            default -> tensor(p, r);
        }
        if (r.nextInt(4) == 0) {
            p.op(new Pickles().binput(p.memo++ & 0xff));
        }
    }

    /** torch._utils._rebuild_tensor_v2 (or _rebuild_parameter around it) with random storage, view and flags. */
    private void tensor(Program p, SplittableRandom r) {
        boolean sane = r.nextInt(3) > 0;
        int rank = sane ? r.nextInt(5) : r.nextInt(10);
        long[] shape = new long[rank];
        long[] stride = new long[rank];
        long numel = 1;
        for (int d = rank - 1; d >= 0; d--) {
            shape[d] = sane ? 1 + r.nextInt(6) : interesting(r);
            stride[d] = sane ? (r.nextInt(5) == 0 ? 0 : numel) : interesting(r);
            numel = sane ? numel * shape[d] : numel;
        }
        long offset = sane ? r.nextInt(3) : interesting(r);
        long storageNumel = sane ? numel + offset + r.nextInt(3) - (r.nextInt(6) == 0 ? 2 : 0) : interesting(r);
        String type = sane ? STORAGES[r.nextInt(3)] : STORAGES[r.nextInt(STORAGES.length)];
        String key = sane ? String.valueOf(r.nextInt(4)) : name(r);
        boolean parameter = r.nextInt(6) == 0;
        Pickles t = new Pickles();
        if (parameter) {
            t.global("torch._utils", "_rebuild_parameter").mark();
        }
        if (rank != shape.length || r.nextInt(20) > 0) {
            t.tensor(type, key, storageNumel, offset, shape, r.nextInt(15) == 0 ? new long[Math.max(0, rank - 1)] : stride);
        } else {
            t.global("torch._utils", "_rebuild_tensor_v2").mark().integer(interesting(r)).tuple().reduce();
        }
        if (parameter) {
            t.op(r.nextBoolean() ? 0x88 : 0x89).orderedDict().tuple().reduce();
        }
        p.op(t);
    }

    /** Any value, {@code depth} levels of containers deep at most. */
    private void value(Program p, SplittableRandom r, int depth) {
        int kind = r.nextInt(depth > 0 ? 14 : 8);
        switch (kind) {
            case 0 -> p.op(new Pickles().integer(interesting(r)));
            case 1 -> p.op(new Pickles().binfloat(r.nextInt(4) == 0 ? Double.NaN : r.nextDouble() * 1e300));
            case 2 -> p.op(new Pickles().str(name(r)));
            case 3 -> p.op(new byte[] {(byte) (r.nextBoolean() ? 'N' : r.nextBoolean() ? 0x88 : 0x89)});
            case 4 -> p.op(new Pickles().op(0x8a, 16).raw(randomBytes(r, 16))); // a LONG1 beyond 64 bits
            case 5 -> p.op(new Pickles().op('C', 3).raw("abc")); // SHORT_BINBYTES
            case 6 -> p.op(new Pickles().global(r.nextBoolean() ? "collections" : "builtins", r.nextBoolean() ? "OrderedDict" : "eval"));
            case 7 -> p.op(new Pickles().binget(r.nextInt(Math.max(1, p.memo + 2)) & 0xff));
            case 8 -> { // tuple
                int n = r.nextInt(5);
                p.op(new Pickles().mark());
                for (int i = 0; i < n; i++) {
                    value(p, r, depth - 1);
                }
                p.op(new Pickles().tuple());
            }
            case 9 -> { // list
                p.op(new Pickles().emptyList().mark());
                for (int i = r.nextInt(5); i > 0; i--) {
                    value(p, r, depth - 1);
                }
                p.op(new Pickles().appends());
            }
            case 10 -> { // dict, sometimes with a non-string key
                p.op(new Pickles().emptyDict());
                for (int i = r.nextInt(4); i > 0; i--) {
                    if (r.nextInt(5) == 0) {
                        value(p, r, 0);
                    } else {
                        p.op(new Pickles().str(name(r)));
                    }
                    value(p, r, depth - 1);
                    p.op(new Pickles().setitem());
                }
            }
            case 11 -> { // set and frozenset
                p.op(new Pickles().op(r.nextBoolean() ? 0x8f : '('));
                for (int i = r.nextInt(4); i > 0; i--) {
                    value(p, r, 0);
                }
                p.op(new byte[] {(byte) (r.nextBoolean() ? 0x90 : 0x91)});
            }
            case 12 -> tensor(p, r);
            default -> p.op(new Pickles().orderedDict());
        }
    }

    /** Containers nested thousands deep: nothing in the reader may recurse on them. */
    private static void deep(Program p, SplittableRandom r) {
        int n = 1 + r.nextInt(r.nextBoolean() ? 50 : 20_000);
        Pickles d = new Pickles();
        int kind = r.nextInt(3);
        if (kind == 0) { // [[[...]]]
            for (int i = 0; i < n; i++) {
                d.emptyList();
            }
            for (int i = 0; i < n - 1; i++) {
                d.op('a');
            }
        } else if (kind == 1) { // ((((),),),)
            d.emptyTuple();
            for (int i = 0; i < n; i++) {
                d.op(0x85);
            }
        } else { // {"k": {"k": ...}}
            for (int i = 0; i < n; i++) {
                d.emptyDict().str("k");
            }
            d.emptyDict();
            for (int i = 0; i < n; i++) {
                d.setitem();
            }
        }
        p.op(d);
    }

    /** One dict shared under two keys at each of many levels, through the memo: 2^levels names. */
    private static void shared(Program p, SplittableRandom r) {
        int levels = 1 + r.nextInt(40);
        int base = 1000 + r.nextInt(1000);
        Pickles d = new Pickles().emptyDict().longBinput(base).str("t").floatTensor("0", 1).setitem();
        String key = "k".repeat(r.nextInt(3) == 0 ? r.nextInt(3000) : 1);
        for (int i = 1; i <= levels; i++) {
            d.emptyDict().mark().str(key + "0").longBinget(base + i - 1).str(key + "1").longBinget(base + i - 1).setitems()
                    .longBinput(base + i);
        }
        p.op(d);
    }

    /** An opcode a state_dict never holds, or one out of place. */
    private static byte[] foreignOp(SplittableRandom r) {
        int[] ops = {'.', '0', '1', '2', '(', 'b', 'R', 0x81, 0x92, 'i', 'o', 0x82, 0x83, 0x84, 0x95, 0x93, 'P', 'Q', 0x94, 0x96, 0x97,
                0x98, 'e', 'a', 'u', 's', 'l', 'd', 't', 'g', 'p', 'S', 'V', 'F', 'I', 'L', 'j', 'r', 0x8b, 0x8d, 0x8e, 'B', 'T', 'U', 0xff};
        int op = ops[r.nextInt(ops.length)];
        return switch (op) {
            case 'i', 'c' -> ("i" + "torch\nFloatStorage\n").getBytes(StandardCharsets.US_ASCII);
            case 'g', 'p' -> new byte[] {(byte) op, '1', '\n'};
            case 'S' -> "S'x'\n".getBytes(StandardCharsets.US_ASCII);
            case 'V', 'F', 'I', 'L' -> (((char) op) + String.valueOf(interesting(r)) + (op == 'L' ? "L" : "") + "\n")
                    .getBytes(StandardCharsets.US_ASCII);
            case 0x95 -> new Pickles().op(0x95).raw(randomBytes(r, 8)).bytes();
            case 'j', 'r', 0x8b, 0x8d, 'B', 'T' -> new Pickles().op(op).raw(randomBytes(r, 4)).bytes();
            case 0x8e -> new Pickles().op(op).raw(randomBytes(r, 8)).bytes();
            case 'U' -> new byte[] {'U', (byte) r.nextInt(256)};
            default -> new byte[] {(byte) op};
        };
    }

    private static byte[] flip(SplittableRandom r, byte[] op) {
        byte[] b = op.clone();
        if (b.length > 0) {
            b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
        }
        return b;
    }

    private static byte[] randomBytes(SplittableRandom r, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) r.nextInt(256);
        }
        return b;
    }

    /** A tensor or key name: plain, dotted, empty, long, with terminal escapes, non-Latin or unpaired surrogates. */
    private static String name(SplittableRandom r) {
        return switch (r.nextInt(10)) {
            case 0 -> "";
            case 1 -> "w\u001b[2J\u0007" + r.nextInt(9);
            case 2 -> "\u202e\u0436\u4e2d" + r.nextInt(9);
            case 3 -> "x".repeat(r.nextInt(5000));
            case 4 -> "\ud800" + r.nextInt(9);
            case 5 -> "__metadata__";
            default -> "layer" + r.nextInt(4) + (r.nextBoolean() ? ".weight" : ".bias");
        };
    }

    // ---- zip archives -------------------------------------------------------------------------------

    private byte[] zip(SplittableRandom r) {
        byte[] pickle;
        List<byte[]> storages = new ArrayList<>();
        if (r.nextBoolean()) {
            // A state_dict whose storages match it: the lies below then reach the records and the conversion.
            int n = 1 + r.nextInt(4);
            String[] names = new String[n];
            long[][] shapes = new long[n][];
            for (int i = 0; i < n; i++) {
                names[i] = r.nextInt(6) == 0 ? name(r) : "layer" + i + ".weight";
                shapes[i] = new long[] {1 + r.nextInt(5), 1 + r.nextInt(7)};
                storages.add(randomBytes(r, (int) (4 * shapes[i][0] * shapes[i][1])));
            }
            pickle = Pickles.stateDict(names, shapes);
        } else {
            pickle = pickle(r).bytes();
            for (int i = r.nextInt(5); i > 0; i--) {
                storages.add(randomBytes(r, 4 * r.nextInt(40)));
            }
        }
        ZipBytes z = ZipBytes.torch(r.nextInt(8) == 0 ? name(r) : "archive", pickle, storages);
        if (r.nextInt(4) == 0) {
            z.add("archive/byteorder", (r.nextBoolean() ? "little" : "big").getBytes(StandardCharsets.US_ASCII), false);
        }
        for (ZipBytes.Entry e : z.entries) {
            if (r.nextInt(4) == 0) {
                ZipBytes.Entry d = new ZipBytes().add(e.name, inflated(e), true);
                e.payload = d.payload;
                e.method = 8;
                e.cenCompressed = e.locCompressed = d.payload.length;
            }
        }
        int lies = r.nextInt(3);
        for (int l = 0; l < lies && !z.entries.isEmpty(); l++) {
            ZipBytes.Entry e = z.entries.get(r.nextInt(z.entries.size()));
            switch (r.nextInt(16)) {
                case 0 -> e.method = r.nextBoolean() ? r.nextInt(100) : 0xffff;
                case 1 -> e.flags = 1 << r.nextInt(16);
                case 2 -> e.crc = r.nextLong(1L << 32);
                case 3 -> e.cenSize = size(r, e.cenSize);
                case 4 -> e.cenCompressed = size(r, e.cenCompressed);
                case 5 -> e.locSize = e.locCompressed = size(r, e.locSize);
                case 6 -> e.offsetShift = r.nextBoolean() ? r.nextInt(-64, 64) : interesting(r);
                case 7 -> e.cenExtra = extra(r);
                case 8 -> e.locExtra = extra(r);
                case 9 -> e.name = r.nextBoolean() ? name(r) : z.entries.get(r.nextInt(z.entries.size())).name;
                case 10 -> e.present = false;
                case 11 -> z.countShift = r.nextInt(-3, 4);
                case 12 -> z.cenSizeShift = r.nextBoolean() ? r.nextInt(-64, 64) : interesting(r);
                case 13 -> z.cenOffsetShift = r.nextBoolean() ? r.nextInt(-64, 64) : interesting(r);
                case 14 -> z.comment = r.nextBoolean() ? randomBytes(r, r.nextInt(200))
                        : new byte[] {'P', 'K', 5, 6, 0, 0, 0, 0, 1, 0, 1, 0, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f, 0, 0, 0, 0, 0, 0};
                default -> z.gap = randomBytes(r, r.nextInt(100));
            }
        }
        byte[] out = z.bytes();
        if (r.nextInt(12) == 0) {
            out = java.util.Arrays.copyOf(out, r.nextInt(out.length + 1));
        }
        for (int f = r.nextInt(8) == 0 ? 1 + r.nextInt(3) : 0; f > 0 && out.length > 0; f--) {
            out[r.nextInt(out.length)] ^= (byte) (1 << r.nextInt(8));
        }
        return out;
    }

    private static byte[] inflated(ZipBytes.Entry e) {
        if (e.method == 0) {
            return e.payload;
        }
        try (var in = new java.util.zip.InflaterInputStream(new java.io.ByteArrayInputStream(e.payload), new java.util.zip.Inflater(true))) {
            return in.readAllBytes();
        } catch (IOException x) {
            throw new java.io.UncheckedIOException(x);
        }
    }

    private static long size(SplittableRandom r, long real) {
        return switch (r.nextInt(5)) {
            case 0 -> real + r.nextInt(-4, 5);
            case 1 -> 0xffffffffL; // the ZIP64 marker
            case 2 -> real * 2;
            case 3 -> 0;
            default -> r.nextLong(1L << 32);
        };
    }

    /** An extra field: a ZIP64 record with random values, or random bytes. */
    private static byte[] extra(SplittableRandom r) {
        if (r.nextBoolean()) {
            int n = 8 * r.nextInt(4);
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 + n).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.putShort((short) 1).putShort((short) (r.nextInt(8) == 0 ? r.nextInt(64) : n));
            for (int i = 0; i < n / 8; i++) {
                b.putLong(interesting(r));
            }
            return b.array();
        }
        return randomBytes(r, r.nextInt(40));
    }

    // ---- safetensors --------------------------------------------------------------------------------

    private static final String[] DTYPES = {"F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL", "F8_E4M3", "f32", "Q4", ""};

    private byte[] safetensors(SplittableRandom r) {
        StringBuilder h = new StringBuilder("{");
        int n = r.nextInt(6);
        long offset = 0;
        List<Long> sizes = new ArrayList<>();
        boolean first = true;
        if (r.nextInt(3) > 0) {
            h.append(json("__metadata__")).append(':').append(metadata(r));
            first = false;
        }
        for (int i = 0; i < n; i++) {
            String dtype = r.nextInt(6) == 0 ? DTYPES[r.nextInt(DTYPES.length)] : DTYPES[r.nextInt(3)];
            int size = switch (dtype) {
                case "F32", "I32" -> 4;
                case "F16", "BF16", "I16" -> 2;
                case "F64", "I64" -> 8;
                default -> 1;
            };
            boolean sane = r.nextInt(4) > 0;
            int rank = r.nextInt(4);
            StringBuilder shape = new StringBuilder("[");
            long numel = 1;
            for (int d = 0; d < rank; d++) {
                long dim = sane ? r.nextInt(6) : interesting(r);
                numel *= dim;
                shape.append(d == 0 ? "" : ",").append(r.nextInt(30) == 0 ? "1e400" : r.nextInt(30) == 0 ? "99999999999999999999"
                        : String.valueOf(dim));
            }
            shape.append(']');
            long bytes = sane ? numel * size : interesting(r);
            long begin = sane ? offset : interesting(r);
            long end = sane ? begin + bytes + (r.nextInt(10) == 0 ? r.nextInt(-2, 3) : 0) : interesting(r);
            if (!first) {
                h.append(',');
            }
            first = false;
            h.append(json(r.nextInt(5) == 0 ? name(r) : "t" + i)).append(":{\"dtype\":").append(json(dtype))
                    .append(",\"shape\":").append(r.nextInt(20) == 0 ? "\"3\"" : shape)
                    .append(",\"data_offsets\":[").append(begin).append(',').append(end).append(']')
                    .append(r.nextInt(20) == 0 ? ",\"extra\":1" : "").append('}');
            if (sane) {
                offset = Math.max(offset, end);
                sizes.add(bytes);
            }
        }
        h.append('}');
        if (r.nextInt(20) == 0) {
            h.append(r.nextBoolean() ? " x" : "{}");
        }
        byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
        long data = Math.max(0, Math.min(offset, 1 << 20)) + (r.nextInt(8) == 0 ? r.nextInt(-3, 4) : 0);
        long length = r.nextInt(15) == 0 ? interesting(r) : header.length;
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) (8 + header.length + Math.max(0, data)))
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putLong(length).put(header);
        while (b.hasRemaining()) {
            b.put((byte) r.nextInt(256));
        }
        byte[] out = b.array();
        if (r.nextInt(10) == 0 && out.length > 0) {
            out[r.nextInt(out.length)] ^= (byte) (1 << r.nextInt(8));
        }
        return out;
    }

    /** {@code __metadata__}: the keys prism sample reads, with hostile values, and others. */
    private String metadata(SplittableRandom r) {
        if (r.nextInt(15) == 0) {
            return r.nextBoolean() ? "null" : r.nextBoolean() ? "{\"a\":1}" : "{\"a\":{\"b\":\"c\"}}";
        }
        Map<String, String> m = new LinkedHashMap<>();
        if (r.nextInt(4) > 0) {
            String[] models = {"unet", "wg-unet", "ddpm-unet", "deepprism-vae", "classifier", "gpt", "", "unet\u001b[2J"};
            m.put("model", models[r.nextInt(models.length)]);
            m.put("options", options(r));
        }
        if (r.nextBoolean()) {
            m.put("image_size", r.nextBoolean() ? String.valueOf(interesting(r)) : "8x" + interesting(r));
        }
        if (r.nextBoolean()) {
            m.put("schedule", r.nextBoolean() ? "cosine(T=40, s=0.008, maxBeta=0.999)" : name(r));
            m.put("timesteps", String.valueOf(interesting(r)));
        }
        if (r.nextInt(5) == 0) {
            m.put(name(r), "x".repeat(r.nextInt(100_000)));
        }
        StringBuilder b = new StringBuilder("{");
        m.forEach((k, v) -> b.append(b.length() > 1 ? "," : "").append(json(k)).append(':').append(json(v)));
        return b.append('}').toString();
    }

    /** Model options as the options metadata holds them (a JSON object of strings), with hostile values. */
    private String options(SplittableRandom r) {
        switch (r.nextInt(12)) {
            case 0 -> {
                return "";
            }
            case 1 -> {
                return "[1,2]";
            }
            case 2 -> {
                return "{\"width\":{\"a\":1}}";
            }
            case 3 -> {
                return "{\"width\":";
            }
            default -> {
            }
        }
        String[] keys = {"in", "width", "levels", "res", "attn", "conv", "order", "attention", "heads", "groups", "padding", "mults",
                "skip", "gates", "gate_hidden", "z", "stages", "convs", "hidden", "classes", "colour"};
        StringBuilder b = new StringBuilder("{");
        for (int i = r.nextInt(6); i > 0; i--) {
            String k = keys[r.nextInt(keys.length)];
            String v = switch (k) {
                case "conv" -> pick(r, "standard", "deepprism", "separable", "cosconv", "chebconv", "fancy");
                case "attention" -> pick(r, "standard", "prismattn", "none", "x");
                case "padding" -> pick(r, "zeros", "replicate", "circular", "mirror");
                case "skip" -> pick(r, "add", "concat", "");
                case "mults" -> pick(r, "1", "1,2", "1,2,2", "0", "-1", "1,,2", "9999999999");
                default -> sizeOption(r, k);
            };
            b.append(b.length() > 1 ? "," : "").append(json(k)).append(':').append(r.nextInt(20) == 0 ? v.isEmpty() ? "0" : "1" : json(v));
        }
        return b.append('}').toString();
    }

    /** A size option: small and valid, 0, negative, not a number, beyond int, or (with hugeSizes) anything. */
    private String sizeOption(SplittableRandom r, String key) {
        return switch (r.nextInt(8)) {
            case 0 -> pick(r, "0", "-1", "x", "", " 4 ", "2147483648", "1e3", "NaN");
            case 1 -> hugeSizes ? String.valueOf(interesting(r)) : String.valueOf(r.nextInt(1, 5));
            default -> switch (key) {
                case "width", "hidden", "gate_hidden", "z" -> String.valueOf(4 * r.nextInt(1, 17));
                case "levels", "stages" -> String.valueOf(r.nextInt(1, 5));
                default -> String.valueOf(r.nextInt(1, 5));
            };
        };
    }

    private static String pick(SplittableRandom r, String... v) {
        return v[r.nextInt(v.length)];
    }

    /** A JSON string literal, with control characters and unpaired surrogates escaped as JSON does. */
    private static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || Character.isSurrogate(c)) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    // ---- byte-level mutations ---------------------------------------------------------------------------

    private byte[] mutate(SplittableRandom r) {
        byte[] base = seeds.isEmpty() || r.nextInt(4) == 0 ? zip(r) : seeds.get(r.nextInt(seeds.size()));
        byte[] b = base.clone();
        for (int m = 1 + r.nextInt(8); m > 0; m--) {
            if (b.length == 0) {
                break;
            }
            int at = r.nextInt(b.length);
            // Mostly in place: a cut, an insertion or a deletion moves a zip's end record and little gets past it.
            switch (r.nextInt(5) > 0 ? r.nextInt(3) : 3 + r.nextInt(3)) {
                case 0 -> b[at] ^= (byte) (1 << r.nextInt(8));
                case 1 -> b[at] = (byte) new int[] {0, 0xff, 0x7f, 0x80, 1}[r.nextInt(5)];
                case 2 -> { // overwrite 4 bytes with an interesting integer
                    long v = interesting(r);
                    for (int i = 0; i < 4 && at + i < b.length; i++) {
                        b[at + i] = (byte) (v >>> (8 * i));
                    }
                }
                case 3 -> b = java.util.Arrays.copyOf(b, at); // cut
                case 4 -> { // delete a range
                    int n = r.nextInt(Math.min(64, b.length - at) + 1);
                    byte[] c = new byte[b.length - n];
                    System.arraycopy(b, 0, c, 0, at);
                    System.arraycopy(b, at + n, c, at, b.length - at - n);
                    b = c;
                }
                default -> { // duplicate a range
                    int n = r.nextInt(Math.min(64, b.length - at) + 1);
                    byte[] c = new byte[b.length + n];
                    System.arraycopy(b, 0, c, 0, at + n);
                    System.arraycopy(b, at, c, at + n, b.length - at);
                    b = c;
                }
            }
        }
        return b;
    }
}
