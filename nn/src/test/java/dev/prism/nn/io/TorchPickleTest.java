package dev.prism.nn.io;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hand-written pickles, opcode by opcode: what the allow-list admits and what it refuses. */
class TorchPickleTest {

    /** A pickle assembler: each method appends one opcode with its argument. */
    static final class Pk {
        private final ByteArrayOutputStream b = new ByteArrayOutputStream();

        Pk op(int... bytes) {
            for (int x : bytes) {
                b.write(x);
            }
            return this;
        }

        Pk proto(int v) {
            return op(0x80, v);
        }

        Pk raw(String ascii) {
            b.writeBytes(ascii.getBytes(StandardCharsets.US_ASCII));
            return this;
        }

        Pk global(String module, String name) {
            return op('c').raw(module + "\n" + name + "\n");
        }

        Pk str(String s) {
            byte[] u = s.getBytes(StandardCharsets.UTF_8);
            op('X');
            b.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(u.length).array());
            b.writeBytes(u);
            return this;
        }

        Pk int1(int v) {
            return op('K', v);
        }

        Pk mark() {
            return op('(');
        }

        Pk tuple() {
            return op('t');
        }

        Pk reduce() {
            return op('R');
        }

        Pk emptyDict() {
            return op('}');
        }

        Pk setitem() {
            return op('s');
        }

        Pk stop() {
            return op('.');
        }

        /** torch._utils._rebuild_tensor_v2 of a FloatStorage '0' with {@code numel} elements, shape (2, 3), stride (3, 1). */
        Pk tensor(int numel) {
            global("torch._utils", "_rebuild_tensor_v2").mark();
            mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu").int1(numel).tuple().op('Q');
            int1(0).int1(2).int1(3).op(0x86).int1(3).int1(1).op(0x86).op(0x89);
            global("collections", "OrderedDict").op(')').reduce();
            return tuple().reduce();
        }

        byte[] bytes() {
            return b.toByteArray();
        }
    }

    static WeightFileException rejected(byte[] pickle) {
        return assertThrows(WeightFileException.class, () -> TorchPickle.parse("t.pth", pickle));
    }

    static void assertRejected(Pk p, String fragment) {
        var e = rejected(p.bytes());
        assertEquals("t.pth", e.file());
        assertTrue(e.getMessage().startsWith("t.pth: ") && e.getMessage().contains(fragment), e.getMessage());
    }

    static Pk stateDict() {
        return new Pk().proto(2).global("collections", "OrderedDict").op(')').reduce()
                .str("w").tensor(6).setitem();
    }

    @Test
    void aMinimalStateDictParsesToOneTensorView() {
        TorchPickle.Parsed p = TorchPickle.parse("t.pth", stateDict().stop().bytes());
        assertEquals(List.of("w"), List.copyOf(p.tensors().keySet()));
        TorchPickle.TensorRef t = p.tensors().get("w");
        assertEquals(new TorchPickle.Storage("0", DType.F32, 6), t.storage());
        assertArrayEquals(new int[] {2, 3}, t.shape());
        assertArrayEquals(new long[] {3, 1}, t.stride());
        assertTrue(t.contiguous());
        assertEquals(List.of(), p.ignored());
    }

    @Test
    void globalsOutsideTheAllowListAreRefusedByName() {
        assertRejected(new Pk().proto(2).global("builtins", "eval").str("1+1").op(0x85).reduce().stop(),
                "data.pkl byte 2: global 'builtins.eval' is not allowed: Prism loads only tensors");
        // Protocol 4 names globals from the stack.
        assertRejected(new Pk().proto(4).op(0x8c, 2).op('o', 's').op(0x8c, 6).op('s', 'y', 's', 't', 'e', 'm').op(0x93)
                .stop(), "global 'os.system' is not allowed");
        // INST names and calls a class in one opcode.
        assertRejected(new Pk().proto(0).mark().str("ls").op('i').raw("subprocess\nPopen\n").stop(),
                "global 'subprocess.Popen' is not allowed");
        // A torch function that is not a state_dict's.
        assertRejected(new Pk().proto(2).global("torch._utils", "_rebuild_qtensor").stop(),
                "global 'torch._utils._rebuild_qtensor' is not allowed");
        assertRejected(new Pk().proto(2).global("torch", "load").stop(), "global 'torch.load' is not allowed");
    }

    @Test
    void allowedGlobalsOnlyDoWhatAStateDictNeeds() {
        assertRejected(new Pk().proto(2).global("torch", "FloatStorage").op(')').reduce().stop(),
                "torch.FloatStorage is called; in a state_dict it only names a storage's dtype");
        assertRejected(new Pk().proto(2).global("collections", "OrderedDict").int1(1).op(0x85).reduce().stop(),
                "collections.OrderedDict called with 1 arguments");
        assertRejected(new Pk().proto(2).emptyDict().emptyDict().op('b').stop(),
                "BUILD of a dict with a dict; a state_dict sets state only on an OrderedDict");
        assertRejected(new Pk().proto(2).global("torch._utils", "_rebuild_tensor_v2").int1(1).op(0x85).reduce().stop(),
                "_rebuild_tensor_v2 expects 6 or 7 arguments, found 1");
        assertRejected(new Pk().proto(2).op('P').raw("0\n").stop(),
                "text persistent ids (PERSID) are not what torch.save writes");
    }

    @Test
    void lengthsBeyondThePickleFailBeforeAnythingIsAllocated() {
        assertRejected(new Pk().proto(2).op('X', 0xff, 0xff, 0xff, 0x7f).op('a', 'b').stop(),
                "announces 2147483647 bytes, but 3 remain");
        assertRejected(new Pk().proto(2).op('X', 0xff, 0xff, 0xff, 0xff).stop(), "announces -1 bytes");
        assertRejected(new Pk().proto(4).op(0x8e, 0, 0, 0, 0, 0, 0, 0, 0x40).stop(), "announces 4611686018427387904 bytes");
        assertRejected(new Pk().proto(2).op(0x8b, 0, 0, 0, 0x10).stop(), "announces 268435456 bytes");
    }

    @Test
    void everyTruncationOfAStateDictIsRejected() {
        byte[] whole = stateDict().stop().bytes();
        for (int n = 0; n < whole.length; n++) {
            rejected(Arrays.copyOf(whole, n));
        }
    }

    @Test
    void structuresNoStateDictHasAreRefused() {
        // d = {}; d['a'] = d
        assertRejected(new Pk().proto(2).emptyDict().op('q', 0).str("a").op('h', 0).setitem().stop(), "the dict at 'a' contains itself");
        // {[]: 1}: a list as a key (Java would hash it deeply, and forever if it held itself)
        assertRejected(new Pk().proto(2).emptyDict().op(']').int1(1).setitem().stop(), "unhashable key or set element: a list");
        assertRejected(new Pk().proto(2).op(']').stop(), "pickle holds a list at the top level; expected a dict of tensors");
        assertRejected(new Pk().proto(2).tensor(6).stop(), "pickle holds a tensor at the top level");
        assertRejected(new Pk().proto(2).op('h', 7).stop(), "malformed pickle");
        assertRejected(new Pk().proto(9).stop(), "malformed pickle");
        assertRejected(new Pk().proto(2).op(0xff).stop(), "malformed pickle");
        assertRejected(new Pk().proto(2).reduce().stop(), "malformed pickle");
        assertRejected(new Pk().proto(2).emptyDict().str("w").tensor(5).setitem().stop(),
                "tensor 'w': view offset 0, shape [2,3], stride [3,1] reaches element 5 of storage '0', which has 5 elements");
        Pk deep = new Pk().proto(2);
        for (int i = 0; i < 40; i++) {
            deep.emptyDict().str("k");
        }
        deep.emptyDict();
        for (int i = 0; i < 40; i++) {
            deep.setitem();
        }
        assertRejected(deep.stop(), "dicts nested deeper than 32 levels");
    }

    @Test
    void sharedDictsAreReadUnderEachName() {
        // inner = {'w': tensor}; {'a': inner, 'b': inner, 'epoch': 3}
        Pk p = new Pk().proto(2).emptyDict().str("a").emptyDict().op('q', 1).str("w").tensor(6).setitem().setitem()
                .str("b").op('h', 1).setitem().str("epoch").int1(3).setitem();
        TorchPickle.Parsed parsed = TorchPickle.parse("t.pth", p.stop().bytes());
        assertEquals(List.of("a.w", "b.w"), List.copyOf(parsed.tensors().keySet()));
        assertEquals(List.of("epoch"), parsed.ignored());
    }
}
