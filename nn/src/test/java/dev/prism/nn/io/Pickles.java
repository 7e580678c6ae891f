package dev.prism.nn.io;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A pickle assembler for tests: each method appends one opcode with its argument, so a test can write
 * exactly the program a hostile file would hold (opcode values from CPython's {@code pickletools}).
 * {@link #tensor} and {@link #stateDict} write what {@code torch.save(state_dict)} writes for a tensor.
 */
public final class Pickles {
    private final ByteArrayOutputStream b = new ByteArrayOutputStream();

    public Pickles op(int... bytes) {
        for (int x : bytes) {
            b.write(x);
        }
        return this;
    }

    public Pickles raw(byte[] bytes) {
        b.writeBytes(bytes);
        return this;
    }

    public Pickles raw(String ascii) {
        return raw(ascii.getBytes(StandardCharsets.ISO_8859_1));
    }

    private Pickles le(long v, int n) {
        for (int i = 0; i < n; i++) {
            b.write((int) (v >>> (8 * i)));
        }
        return this;
    }

    public Pickles proto(int v) {
        return op(0x80, v);
    }

    /** GLOBAL: {@code module} and {@code name} as text lines. */
    public Pickles global(String module, String name) {
        return op('c').raw((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** BINUNICODE: a 4-byte length, then UTF-8. */
    public Pickles str(String s) {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        return op('X').le(u.length, 4).raw(u);
    }

    /** SHORT_BINUNICODE (protocol 4): a 1-byte length. */
    public Pickles shortStr(String s) {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        return op(0x8c, u.length).raw(u);
    }

    /** The smallest integer opcode that holds {@code v}: BININT1, BININT2, BININT or LONG1. */
    public Pickles integer(long v) {
        if (v >= 0 && v < 256) {
            return op('K', (int) v);
        }
        if (v >= 0 && v < 65536) {
            return op('M').le(v, 2);
        }
        if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            return op('J').le(v, 4);
        }
        return op(0x8a, 8).le(v, 8);
    }

    public Pickles binfloat(double d) {
        long bits = Double.doubleToRawLongBits(d);
        op('G');
        for (int i = 7; i >= 0; i--) {
            b.write((int) (bits >>> (8 * i)));
        }
        return this;
    }

    public Pickles mark() {
        return op('(');
    }

    public Pickles tuple() {
        return op('t');
    }

    public Pickles emptyTuple() {
        return op(')');
    }

    public Pickles reduce() {
        return op('R');
    }

    public Pickles emptyDict() {
        return op('}');
    }

    public Pickles emptyList() {
        return op(']');
    }

    public Pickles setitem() {
        return op('s');
    }

    public Pickles setitems() {
        return op('u');
    }

    public Pickles appends() {
        return op('e');
    }

    public Pickles binput(int i) {
        return op('q', i);
    }

    public Pickles longBinput(int i) {
        return op('r').le(i, 4);
    }

    public Pickles binget(int i) {
        return op('h', i);
    }

    public Pickles longBinget(int i) {
        return op('j').le(i, 4);
    }

    public Pickles stop() {
        return op('.');
    }

    /** {@code collections.OrderedDict()}. */
    public Pickles orderedDict() {
        return global("collections", "OrderedDict").emptyTuple().reduce();
    }

    /**
     * {@code torch._utils._rebuild_tensor_v2(storage, offset, shape, stride, False, OrderedDict())} over the storage
     * persistent id {@code ('storage', torch.<storageType>, key, 'cpu', numel)}, as torch.save writes a tensor.
     */
    public Pickles tensor(String storageType, String key, long numel, long offset, long[] shape, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2").mark();
        mark().str("storage").global("torch", storageType).str(key).str("cpu").integer(numel).tuple().op('Q');
        integer(offset);
        mark();
        for (long s : shape) {
            integer(s);
        }
        tuple().mark();
        for (long s : stride) {
            integer(s);
        }
        tuple().op(0x89).orderedDict();
        return tuple().reduce();
    }

    /** A [2,3] row-major FloatStorage tensor over storage '0' of {@code numel} elements (6 fit exactly). */
    public Pickles tensor2x3(long numel) {
        return tensor("FloatStorage", "0", numel, 0, new long[] {2, 3}, new long[] {3, 1});
    }

    /** A contiguous FloatStorage tensor of {@code shape} over the whole storage {@code key}. */
    public Pickles floatTensor(String key, long... shape) {
        long[] stride = new long[shape.length];
        long n = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            stride[d] = n;
            n *= shape[d];
        }
        return tensor("FloatStorage", key, n, 0, shape, stride);
    }

    /** A protocol-2 pickle of an OrderedDict mapping each {@code names[i]} to a FloatStorage tensor of {@code shapes[i]}, storage key {@code i}. */
    public static byte[] stateDict(String[] names, long[][] shapes) {
        Pickles p = new Pickles().proto(2).orderedDict().mark();
        for (int i = 0; i < names.length; i++) {
            p.str(names[i]).floatTensor(String.valueOf(i), shapes[i]);
        }
        return p.setitems().stop().bytes();
    }

    public int size() {
        return b.size();
    }

    public byte[] bytes() {
        return b.toByteArray();
    }

    /** {@code n} as 4 little-endian bytes. */
    static byte[] int32(int n) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(n).array();
    }
}
