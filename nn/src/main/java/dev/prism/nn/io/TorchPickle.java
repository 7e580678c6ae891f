package dev.prism.nn.io;

import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.Opcodes;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.PickleUtils;
import net.razorvine.pickle.Unpickler;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the {@code data.pkl} of a {@code torch.save} archive with an allow-list: loading never runs
 * code and never instantiates a class named by the file. The pickle machine is Pyrolite's
 * ({@code net.razorvine:pickle}); this class replaces every opcode that could reach a class or a
 * reflective call (GLOBAL, STACK_GLOBAL, INST, BUILD) and the dict and set opcodes, and checks the
 * length of every length-prefixed opcode against the bytes left before anything is allocated.
 *
 * <h2>The allow-list</h2>
 * What {@code torch.save(model.state_dict(), f)} writes under PyTorch 1.13 (inspected with
 * {@code pickletools} on files from {@code tools/refgen/weights.py}), and nothing else:
 * <ul>
 *   <li>{@code collections.OrderedDict}: the state_dict itself, its {@code _metadata} attribute, and
 *       the empty {@code backward_hooks} argument of every tensor. Read as an insertion-ordered map;
 *       called with no arguments only. Its {@code BUILD} state ({@code _metadata}: module versions) is
 *       dropped.</li>
 *   <li>{@code torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
 *       backward_hooks[, metadata])}: every tensor. Becomes a {@link TensorRef}: storage, offset,
 *       shape, stride; the flags are ignored. (The seventh argument is written only by later
 *       PyTorch versions and must be None or a dict.)</li>
 *   <li>{@code torch._utils._rebuild_parameter(data, requires_grad, backward_hooks)}: an
 *       {@code nn.Parameter}, as in {@code state_dict(keep_vars=True)} or a dict of
 *       {@code named_parameters()}. Becomes its data tensor.</li>
 *   <li>{@code torch.FloatStorage}, {@code HalfStorage}, {@code BFloat16Storage}: the dtypes Prism
 *       loads. Also {@code DoubleStorage}, {@code LongStorage}, {@code IntStorage},
 *       {@code ShortStorage}, {@code CharStorage}, {@code ByteStorage}, {@code BoolStorage}: a
 *       state_dict holds integer buffers too (BatchNorm's {@code num_batches_tracked} is int64), and
 *       they must be readable to be listed and reported by dtype rather than fail the whole file.
 *       Storage types appear only as the dtype tag inside a storage's persistent id; calling one is
 *       an error.</li>
 * </ul>
 * Any other global ({@code posix.system}, {@code builtins.eval}, {@code torch._utils._rebuild_qtensor},
 * a user's class, ...) fails with a {@link WeightFileException} naming the global and the file.
 *
 * <h2>Storages</h2>
 * Each tensor's storage is a persistent id {@code ('storage', <storage type>, key, location, numel)};
 * its bytes are the archive entry {@code data/<key>}, which {@link PthFile} checks. A tensor is a view:
 * element {@code i} (multi-index) is storage element {@code offset + Σ i_d·stride_d}. Views must stay
 * inside their storage, strides must be non-negative, and a storage key must always come with the same
 * dtype and size.
 *
 * <h2>Limits</h2>
 * A pickle is a program: a few bytes can build structures whose size has nothing to do with the
 * file's (a list appended to itself a million times, dicts shared under every key of their parent,
 * names built from long keys at every level). {@link PickleLimits} bounds the objects, the dict
 * nesting, the memo and the bytes materialised; each is counted as the pickle runs and a file that
 * passes one fails with a {@link WeightFileException} naming the limit, before the structure grows
 * further. Opcodes whose cost grows faster than their input are bounded or replaced: text integers
 * and floats longer than {@value #MAX_DIGITS} characters (Python's own {@code int} conversion limit)
 * are refused, and APPENDS extends its list in place (Pyrolite copies the list on every APPENDS,
 * quadratic in a list's length). {@link Parsed#usage()} says how much of each limit a file used.
 *
 * <h2>The result</h2>
 * The top-level object must be a dict. Tensors are collected under their keys; nested dicts (a
 * checkpoint's {@code {"model": state_dict, "epoch": 3}}) are flattened with dots
 * ({@code model.conv.weight}); other values (numbers, strings, lists) are listed as ignored.
 *
 * <p>Stateless apart from one unpickler per call: {@link #parse} is safe from any thread.
 */
public final class TorchPickle {

    /** Globals a state_dict may name: each one's role is documented in the class comment. */
    public static final Set<String> ALLOWED_GLOBALS;

    private static final Map<String, DType> STORAGES = Map.ofEntries(
            Map.entry("torch.FloatStorage", DType.F32),
            Map.entry("torch.HalfStorage", DType.F16),
            Map.entry("torch.BFloat16Storage", DType.BF16),
            Map.entry("torch.DoubleStorage", DType.F64),
            Map.entry("torch.LongStorage", DType.I64),
            Map.entry("torch.IntStorage", DType.I32),
            Map.entry("torch.ShortStorage", DType.I16),
            Map.entry("torch.CharStorage", DType.I8),
            Map.entry("torch.ByteStorage", DType.U8),
            Map.entry("torch.BoolStorage", DType.BOOL));

    private static final String ORDERED_DICT = "collections.OrderedDict";
    private static final String REBUILD_TENSOR_V2 = "torch._utils._rebuild_tensor_v2";
    private static final String REBUILD_PARAMETER = "torch._utils._rebuild_parameter";

    static {
        Set<String> s = new java.util.TreeSet<>(STORAGES.keySet());
        s.add(ORDERED_DICT);
        s.add(REBUILD_TENSOR_V2);
        s.add(REBUILD_PARAMETER);
        ALLOWED_GLOBALS = Collections.unmodifiableSet(s);
    }

    /** The longest text integer or float accepted (Python's sys.int_info.default_max_str_digits). */
    static final int MAX_DIGITS = 4300;

    /** A storage named by a persistent id: the archive entry {@code data/<key>} holds {@code numel} elements. */
    public record Storage(String key, DType dtype, long numel) {
    }

    /**
     * A tensor as a view of a storage.
     *
     * @param offset first element, in storage elements
     * @param shape  sizes, each in {@code [0, 2^31)}
     * @param stride storage elements between neighbours along each dimension, non-negative
     */
    public record TensorRef(Storage storage, long offset, int[] shape, long[] stride, long numel) {
        /** True if the view is the row-major layout of {@code numel} consecutive storage elements. */
        public boolean contiguous() {
            long expected = 1;
            for (int d = shape.length - 1; d >= 0; d--) {
                if (shape[d] != 1 && stride[d] != expected) {
                    return false;
                }
                expected *= shape[d];
            }
            return true;
        }

        /** The largest storage element the view touches; {@code offset - 1} when it is empty. */
        long lastElement() {
            if (numel == 0) {
                return offset - 1;
            }
            long last = offset;
            for (int d = 0; d < shape.length; d++) {
                last = Math.addExact(last, Math.multiplyExact(shape[d] - 1L, stride[d]));
            }
            return last;
        }
    }

    /**
     * What a pickle held.
     *
     * @param tensors tensors by (flattened) name, in pickle order
     * @param ignored names of values that are not tensors (e.g. a checkpoint's {@code epoch})
     * @param usage   how much of each {@link PickleLimits} reading it took
     */
    public record Parsed(Map<String, TensorRef> tensors, List<String> ignored, Usage usage) {
    }

    /**
     * What reading a pickle cost, in the units of {@link PickleLimits}: objects pushed and values
     * visited, the deepest dict nesting, the largest memo, the bytes materialised.
     */
    public record Usage(long objects, int depth, long memo, long bytes) {
    }

    private TorchPickle() {
    }

    /** {@link #parse(String, byte[], PickleLimits)} under {@link PickleLimits#DEFAULT}. */
    public static Parsed parse(String source, byte[] pickle) {
        return parse(source, pickle, PickleLimits.DEFAULT);
    }

    /**
     * Unpickles {@code pickle} under the allow-list and {@code limits} and collects its tensors.
     *
     * @param source the file, for messages
     * @throws WeightFileException for a disallowed global, malformed or truncated bytes, a view outside its
     *                             storage, a top-level object that is not a dict, a limit exceeded; never
     *                             another exception for any input
     */
    public static Parsed parse(String source, byte[] pickle, PickleLimits limits) {
        return parse(source, pickle, limits, 0);
    }

    /** {@link #parse(String, byte[], PickleLimits)} with {@code materialised} bytes already counted (the zip directory). */
    static Parsed parse(String source, byte[] pickle, PickleLimits limits, long materialised) {
        if (materialised + pickle.length > limits.bytes()) {
            throw new WeightFileException(source, "data.pkl is " + pickle.length + " bytes"
                    + (materialised > 0 ? " (after " + materialised + " of the zip directory)" : "")
                    + ", above the pickle limit bytes=" + limits.bytes() + LIMIT_HINT);
        }
        Restricted u = new Restricted(source, pickle, limits, materialised);
        Object top;
        try {
            top = u.load(u.in);
        } catch (WeightFileException e) {
            throw e;
        } catch (StackOverflowError e) {
            // Nothing here recurses on the pickle's structure; should Pyrolite ever do so, the input is at fault.
            throw u.error("malformed pickle: nested too deeply to read", null);
        } catch (IOException | RuntimeException e) {
            // Pyrolite reports malformed input with whatever exception its code meets first
            // (PickleException, IOException, ClassCastException, IndexOutOfBoundsException, ...).
            throw u.error("malformed pickle: " + e.getClass().getSimpleName()
                    + (e.getMessage() != null ? ": " + firstLine(e.getMessage()) : ""), e);
        }
        if (!(top instanceof Map<?, ?> map)) {
            throw new WeightFileException(source, "pickle holds " + describe(top)
                    + " at the top level; expected a dict of tensors (a state_dict)");
        }
        u.walking = true;
        Collector c = new Collector(source, u);
        c.collect("", map, 1, Collections.newSetFromMap(new IdentityHashMap<>()));
        return new Parsed(Collections.unmodifiableMap(c.tensors), Collections.unmodifiableList(c.ignored),
                new Usage(u.objects, c.deepest, u.memoPeak, u.bytes));
    }

    /**
     * What a refused global suggests about the file: {@code torch.save(model)} pickles the module's class and
     * its submodules' ({@code torch.nn.modules.conv.Conv2d}); a state_dict names none of them.
     */
    static String moduleHint(String global) {
        if (global.startsWith("torch.nn.modules.") || global.startsWith("torch.nn.parallel.")) {
            return "; this file holds a whole pickled nn.Module (torch.save(model)), not a state_dict:"
                    + " save model.state_dict() instead";
        }
        return "";
    }

    /** The end of every limit message: what to do about it. */
    static final String LIMIT_HINT = "; a state_dict needs far less (raise the limit only for a file you trust)";

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        String line = nl < 0 ? s : s.substring(0, nl);
        return line.length() > 200 ? line.substring(0, 200) + "..." : line;
    }

    /** Python's name for the type of an unpickled value, for messages. Never prints the value itself. */
    static String describe(Object o) {
        return switch (o) {
            case null -> "None";
            case String s -> "a str";
            case Integer i -> "an int";
            case Long l -> "an int";
            case BigInteger b -> "an int";
            case Double d -> "a float";
            case Boolean b -> "a bool";
            case Object[] a -> "a tuple of " + a.length;
            case List<?> l -> "a list";
            case Map<?, ?> m -> "a dict";
            case Set<?> s -> "a set";
            case byte[] b -> "bytes";
            case TensorRef t -> "a tensor";
            case Storage s -> "a storage";
            case Restricted.Global g -> "the global " + g.name;
            case Object x when x.getClass() == Object.class -> "a MARK";
            default -> "a " + o.getClass().getSimpleName();
        };
    }

    /** The input, with the position and remaining length that Pyrolite's stream does not expose. */
    private static final class Input extends ByteArrayInputStream {
        Input(byte[] b) {
            super(b);
        }

        int position() {
            return pos;
        }

        int remaining() {
            return count - pos;
        }

        /** The length of the text line {@code skip} bytes after the read position, its newline excluded, not consumed. */
        int lineLength(int skip) {
            int i = Math.min(count, pos + skip);
            int start = i;
            while (i < count && buf[i] != '\n') {
                i++;
            }
            return i - start;
        }

        /** The {@code n}-byte little-endian length at the read position, not consumed. */
        long peekLength(int n) {
            if (remaining() < n) {
                return -1;
            }
            long v = 0;
            for (int i = n - 1; i >= 0; i--) {
                v = (v << 8) | (buf[pos + i] & 0xff);
            }
            // 4-byte lengths are signed in Pyrolite and in CPython.
            return n == 4 ? (int) v : v;
        }
    }

    /** Pyrolite's unpickler with every route to a class replaced by the allow-list, and its work counted against limits. */
    private static final class Restricted extends Unpickler {
        final String source;
        final Input in;
        final PickleLimits limits;
        private final Map<String, Storage> storages = new HashMap<>();
        long objects;
        long bytes;
        long memoPeak;
        /** True once the pickle has been read and its dicts are walked: errors then have no byte position. */
        boolean walking;

        Restricted(String source, byte[] pickle, PickleLimits limits, long materialised) {
            this.source = source;
            this.in = new Input(pickle);
            this.limits = limits;
            this.bytes = materialised + pickle.length;
        }

        /** Counts one value against the objects limit (values pushed here, values visited by the collector). */
        void countObject() {
            if (++objects > limits.objects()) {
                throw error("more than " + limits.objects() + " values, the pickle limit objects=" + limits.objects() + LIMIT_HINT);
            }
        }

        /** Counts {@code n} materialised bytes against the bytes limit. */
        void countBytes(long n) {
            bytes += n;
            if (bytes > limits.bytes()) {
                throw error("more than " + limits.bytes() + " bytes materialised, the pickle limit bytes=" + limits.bytes() + LIMIT_HINT);
            }
        }

        /** Opcodes that put no value on the stack: they consume, store or annotate. */
        private static boolean pushesNothing(short key) {
            return switch (key) {
                case Opcodes.POP, Opcodes.POP_MARK, Opcodes.APPEND, Opcodes.APPENDS, Opcodes.SETITEM, Opcodes.SETITEMS,
                     Opcodes.ADDITEMS, Opcodes.BUILD, Opcodes.PUT, Opcodes.BINPUT, Opcodes.LONG_BINPUT, Opcodes.MEMOIZE,
                     Opcodes.PROTO, Opcodes.FRAME, Opcodes.STOP, Opcodes.READONLY_BUFFER -> true;
                default -> false;
            };
        }

        /** Counts what {@code key} is about to materialise, from its argument's length, before it is read. */
        private void account(short key) {
            if (!pushesNothing(key)) {
                countObject();
            }
            switch (key) {
                case Opcodes.GLOBAL, Opcodes.INST -> countBytes(in.lineLength(0) + in.lineLength(in.lineLength(0) + 1));
                case Opcodes.STRING, Opcodes.UNICODE, Opcodes.GET, Opcodes.PUT, Opcodes.PERSID -> countBytes(in.lineLength(0));
                case Opcodes.INT, Opcodes.LONG, Opcodes.FLOAT -> {
                    int n = in.lineLength(0);
                    if (n > MAX_DIGITS) {
                        throw error("a text number of " + n + " characters; at most " + MAX_DIGITS + " are read (as Python's int() does)");
                    }
                    countBytes(n);
                }
                case Opcodes.SHORT_BINUNICODE, Opcodes.SHORT_BINSTRING, Opcodes.SHORT_BINBYTES, Opcodes.LONG1 ->
                        countBytes(Math.max(0, in.peekLength(1)));
                case Opcodes.BINSTRING, Opcodes.BINBYTES, Opcodes.BINUNICODE, Opcodes.LONG4 -> countBytes(checkLength(key, 4));
                case Opcodes.BINUNICODE8, Opcodes.BINBYTES8, Opcodes.BYTEARRAY8 -> countBytes(checkLength(key, 8));
                default -> {
                }
            }
        }

        WeightFileException error(String problem) {
            return error(problem, null);
        }

        WeightFileException error(String problem, Throwable cause) {
            return new WeightFileException(source, (walking ? "data.pkl: " : "data.pkl byte " + in.position() + ": ") + problem, cause);
        }

        @Override
        protected Object dispatch(short key) throws IOException {
            int at = in.position() - 1;
            account(key);
            switch (key) {
                case Opcodes.GLOBAL -> {
                    String module = PickleUtils.readline(input);
                    String name = PickleUtils.readline(input);
                    stack.add(global(module, name, at));
                }
                case Opcodes.STACK_GLOBAL -> {
                    Object name = stack.pop();
                    Object module = stack.pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw error("STACK_GLOBAL needs two strings, found " + describe(module) + " and " + describe(name));
                    }
                    stack.add(global(m, n, at));
                }
                case Opcodes.INST -> {
                    String module = PickleUtils.readline(input);
                    String name = PickleUtils.readline(input);
                    Global g = global(module, name, at);
                    stack.add(g.construct(stack.pop_all_since_marker().toArray()));
                }
                case Opcodes.BUILD -> {
                    Object state = stack.pop();
                    Object target = stack.peek();
                    // The only BUILD a state_dict holds: OrderedDict's __dict__ with _metadata, which is not needed.
                    if (!(target instanceof PyOrderedDict) || !(state instanceof Map<?, ?>)) {
                        throw error("BUILD of " + describe(target) + " with " + describe(state)
                                + "; a state_dict sets state only on an OrderedDict");
                    }
                }
                case Opcodes.EMPTY_DICT -> stack.add(new LinkedHashMap<>());
                case Opcodes.DICT -> {
                    List<Object> items = stack.pop_all_since_marker();
                    Map<Object, Object> m = new LinkedHashMap<>();
                    putAll(m, items);
                    stack.add(m);
                }
                case Opcodes.SETITEM -> {
                    Object value = stack.pop();
                    Object k = stack.pop();
                    dictOnStack().put(hashable(k), value);
                }
                case Opcodes.SETITEMS -> {
                    List<Object> items = stack.pop_all_since_marker();
                    putAll(dictOnStack(), items);
                }
                case Opcodes.APPENDS -> {
                    // Pyrolite's APPENDS trims the list after each extension, so the next one copies it whole.
                    List<Object> items = stack.pop_all_since_marker();
                    if (!(stack.peek() instanceof ArrayList<?>)) {
                        throw error("APPENDS on " + describe(stack.peek()) + ", not a list");
                    }
                    @SuppressWarnings("unchecked")
                    List<Object> list = (List<Object>) stack.peek();
                    list.addAll(items);
                }
                case Opcodes.PUT, Opcodes.BINPUT, Opcodes.LONG_BINPUT, Opcodes.MEMOIZE -> {
                    Object r = super.dispatch(key);
                    memoPeak = Math.max(memoPeak, memo.size());
                    if (memo.size() > limits.memo()) {
                        throw error("more than " + limits.memo() + " memo entries, the pickle limit memo=" + limits.memo() + LIMIT_HINT);
                    }
                    return r;
                }
                case Opcodes.EMPTY_SET -> stack.add(new HashSet<>());
                case Opcodes.ADDITEMS -> {
                    List<Object> items = stack.pop_all_since_marker();
                    if (!(stack.peek() instanceof Set<?>)) {
                        throw error("ADDITEMS on " + describe(stack.peek()) + ", not a set");
                    }
                    @SuppressWarnings("unchecked")
                    Set<Object> set = (Set<Object>) stack.peek();
                    for (Object o : items) {
                        set.add(hashable(o));
                    }
                }
                case Opcodes.FROZENSET -> {
                    Set<Object> set = new HashSet<>();
                    for (Object o : stack.pop_all_since_marker()) {
                        set.add(hashable(o));
                    }
                    stack.add(set);
                }
                case Opcodes.PERSID -> throw error("text persistent ids (PERSID) are not what torch.save writes");
                default -> {
                    return super.dispatch(key);
                }
            }
            return NO_RETURN_VALUE;
        }

        /** Inserts key/value pairs in pickle order (Pyrolite's SETITEMS goes through a HashMap and loses it). */
        private void putAll(Map<Object, Object> m, List<Object> items) {
            if (items.size() % 2 != 0) {
                throw error("dict items come in key/value pairs, found " + items.size() + " values");
            }
            for (int i = 0; i < items.size(); i += 2) {
                m.put(hashable(items.get(i)), items.get(i + 1));
            }
        }

        @SuppressWarnings("unchecked")
        private Map<Object, Object> dictOnStack() {
            Object target = stack.peek();
            if (!(target instanceof LinkedHashMap<?, ?>)) {
                throw error("SETITEM on " + describe(target) + ", not a dict");
            }
            return (Map<Object, Object>) target;
        }

        /** Python refuses lists, dicts and sets as keys; Java would hash them deeply (and forever, if cyclic). */
        private Object hashable(Object k) {
            if (k instanceof List<?> || k instanceof Map<?, ?> || k instanceof Set<?>) {
                throw error("unhashable key or set element: " + describe(k));
            }
            return k;
        }

        /** The length that the {@code bytes}-byte prefix at the read position announces, checked against what remains. */
        private long checkLength(short key, int bytes) {
            long n = in.peekLength(bytes);
            if (n < 0 || n > in.remaining() - bytes) {
                throw error("opcode 0x" + Integer.toHexString(key) + " announces " + n + " bytes, but "
                        + Math.max(0, in.remaining() - bytes) + " remain");
            }
            return n;
        }

        private Global global(String module, String name, int at) {
            String full = module + "." + name;
            if (!ALLOWED_GLOBALS.contains(full)) {
                throw new WeightFileException(source, "data.pkl byte " + at + ": global '" + Printable.name(full)
                        + "' is not allowed: Prism loads only tensors (allowed: " + ORDERED_DICT + ", "
                        + REBUILD_TENSOR_V2 + ", " + REBUILD_PARAMETER + " and torch.*Storage dtypes)" + moduleHint(full));
            }
            return new Global(full);
        }

        @Override
        protected Object persistentLoad(Object pid) {
            if (!(pid instanceof Object[] t) || t.length != 5 || !"storage".equals(t[0])) {
                throw error("persistent id " + describe(pid) + " is not ('storage', type, key, location, numel)");
            }
            if (!(t[1] instanceof Global g) || !STORAGES.containsKey(g.name)) {
                throw error("persistent id names " + describe(t[1]) + " where a torch.*Storage type belongs");
            }
            if (!(t[2] instanceof String key) || !(t[3] instanceof String)) {
                throw error("persistent id: storage key and location must be strings, found "
                        + describe(t[2]) + " and " + describe(t[3]));
            }
            long numel = nonNegative("storage '" + Printable.name(key) + "' size", t[4]);
            DType dtype = STORAGES.get(g.name);
            Storage s = new Storage(key, dtype, numel);
            Storage before = storages.putIfAbsent(key, s);
            if (before != null && !before.equals(s)) {
                throw error("storage '" + Printable.name(key) + "' is " + before.dtype() + " × " + before.numel()
                        + " in one place and " + dtype + " × " + numel + " in another");
            }
            return before != null ? before : s;
        }

        private long nonNegative(String what, Object o) {
            if (!(o instanceof Integer || o instanceof Long)) {
                throw error(what + ": expected a 64-bit integer, found " + describe(o));
            }
            long v = ((Number) o).longValue();
            if (v < 0) {
                throw error(what + ": expected >= 0, found " + v);
            }
            return v;
        }

        private long[] longs(String what, Object o) {
            if (!(o instanceof Object[] a)) {
                throw error(what + ": expected a tuple of integers, found " + describe(o));
            }
            long[] out = new long[a.length];
            for (int i = 0; i < a.length; i++) {
                out[i] = nonNegative(what + "[" + i + "]", a[i]);
            }
            return out;
        }

        /** An allowed global: the only kind of object on the stack that REDUCE, NEWOBJ, OBJ and INST can call. */
        final class Global implements IObjectConstructor {
            final String name;

            Global(String name) {
                this.name = name;
            }

            @Override
            public Object construct(Object[] args) {
                return switch (name) {
                    case ORDERED_DICT -> {
                        if (args.length != 0) {
                            throw error(ORDERED_DICT + " called with " + args.length + " arguments; a state_dict calls it with none");
                        }
                        yield new PyOrderedDict();
                    }
                    case REBUILD_TENSOR_V2 -> rebuildTensor(args);
                    case REBUILD_PARAMETER -> {
                        if (args.length != 3 || !(args[0] instanceof TensorRef t)) {
                            throw error(REBUILD_PARAMETER + " expects (tensor, requires_grad, hooks), found "
                                    + args.length + " arguments" + (args.length > 0 ? ", the first " + describe(args[0]) : ""));
                        }
                        yield t;
                    }
                    default -> throw error(name + " is called; in a state_dict it only names a storage's dtype");
                };
            }

            private TensorRef rebuildTensor(Object[] args) {
                if (args.length != 6 && args.length != 7) {
                    throw error(REBUILD_TENSOR_V2 + " expects 6 or 7 arguments, found " + args.length);
                }
                if (!(args[0] instanceof Storage storage)) {
                    throw error(REBUILD_TENSOR_V2 + ": argument 1 must be a storage, found " + describe(args[0]));
                }
                long offset = nonNegative(REBUILD_TENSOR_V2 + ": storage_offset", args[1]);
                long[] size = longs(REBUILD_TENSOR_V2 + ": size", args[2]);
                long[] stride = longs(REBUILD_TENSOR_V2 + ": stride", args[3]);
                if (size.length != stride.length) {
                    throw error(REBUILD_TENSOR_V2 + ": size " + Floats.shape(size) + " and stride " + Floats.shape(stride)
                            + " differ in rank");
                }
                if (!(args[4] instanceof Boolean)) {
                    throw error(REBUILD_TENSOR_V2 + ": requires_grad must be a bool, found " + describe(args[4]));
                }
                if (!(args[5] instanceof Map<?, ?>)) {
                    throw error(REBUILD_TENSOR_V2 + ": backward_hooks must be a dict, found " + describe(args[5]));
                }
                if (args.length == 7 && args[6] != null && !(args[6] instanceof Map<?, ?>)) {
                    throw error(REBUILD_TENSOR_V2 + ": metadata must be None or a dict, found " + describe(args[6]));
                }
                int[] shape = new int[size.length];
                long numel = 1;
                for (int d = 0; d < size.length; d++) {
                    if (size[d] > Integer.MAX_VALUE) {
                        throw error(REBUILD_TENSOR_V2 + ": size " + Floats.shape(size) + ": dimension " + d + " is above 2^31-1");
                    }
                    shape[d] = (int) size[d];
                    try {
                        numel = Math.multiplyExact(numel, size[d]);
                    } catch (ArithmeticException e) {
                        throw error(REBUILD_TENSOR_V2 + ": size " + Floats.shape(size) + " overflows 64 bits");
                    }
                }
                return new TensorRef(storage, offset, shape, stride, numel);
            }
        }
    }

    /** {@code collections.OrderedDict}: an insertion-ordered map, nothing more. */
    private static final class PyOrderedDict extends LinkedHashMap<Object, Object> {
    }

    /**
     * Walks the unpickled dicts and collects tensors by dotted name. Every value visited counts against the
     * objects limit and every name built against the bytes limit, so dicts shared under many keys cannot
     * multiply into more work than the limits allow.
     */
    private static final class Collector {
        final String source;
        final Restricted counts;
        final Map<String, TensorRef> tensors = new LinkedHashMap<>();
        final List<String> ignored = new ArrayList<>();
        int deepest;

        Collector(String source, Restricted counts) {
            this.source = source;
            this.counts = counts;
        }

        /** Collects {@code map}, found under {@code name} ("" at the top), nested {@code depth} dicts deep, into dotted names. */
        void collect(String name, Map<?, ?> map, int depth, Set<Object> path) {
            int limit = counts.limits.depth();
            if (depth > limit) {
                throw new WeightFileException(source, "dicts nested deeper than " + limit + " levels at '" + Printable.name(name)
                        + "', the pickle limit depth=" + limit + LIMIT_HINT);
            }
            deepest = Math.max(deepest, depth);
            if (!path.add(map)) {
                throw new WeightFileException(source, "the dict at '" + Printable.name(name) + "' contains itself");
            }
            String prefix = name.isEmpty() ? "" : name + ".";
            for (Map.Entry<?, ?> e : map.entrySet()) {
                counts.countObject();
                Object k = e.getKey();
                if (!(k instanceof String || k instanceof Integer || k instanceof Long)) {
                    String n = prefix + "<" + describe(k) + " key>";
                    counts.countBytes(n.length());
                    ignored.add(n);
                    continue;
                }
                counts.countBytes(prefix.length() + (k instanceof String s ? s.length() : 20));
                String child = prefix + k;
                switch (e.getValue()) {
                    case TensorRef t -> add(child, t);
                    case Map<?, ?> m -> collect(child, m, depth + 1, path);
                    case null, default -> ignored.add(child);
                }
            }
            path.remove(map);
        }

        private void add(String name, TensorRef t) {
            long last;
            try {
                last = t.lastElement();
            } catch (ArithmeticException e) {
                throw new WeightFileException(source, "tensor '" + Printable.name(name) + "': view " + view(t) + " overflows 64 bits");
            }
            if (last >= t.storage().numel()) {
                throw new WeightFileException(source, "tensor '" + Printable.name(name) + "': view " + view(t) + " reaches element "
                        + last + " of storage '" + Printable.name(t.storage().key()) + "', which has " + t.storage().numel() + " elements");
            }
            if (tensors.putIfAbsent(name, t) != null) {
                throw new WeightFileException(source, "tensor name '" + Printable.name(name) + "' occurs twice after flattening nested dicts");
            }
        }

        private static String view(TensorRef t) {
            return "offset " + t.offset() + ", shape " + Floats.shape(t.shape()) + ", stride " + Floats.shape(t.stride());
        }
    }
}
