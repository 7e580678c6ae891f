package dev.prism.nn.io;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hand-written pickles, opcode by opcode: what the allow-list admits and what it refuses. */
class TorchPickleTest {

    static WeightFileException rejected(byte[] pickle) {
        return assertThrows(WeightFileException.class, () -> TorchPickle.parse("t.pth", pickle));
    }

    static void assertRejected(Pickles p, String fragment) {
        var e = rejected(p.bytes());
        assertEquals("t.pth", e.file());
        assertTrue(e.getMessage().startsWith("t.pth: ") && e.getMessage().contains(fragment), e.getMessage());
    }

    static Pickles stateDict() {
        return new Pickles().proto(2).global("collections", "OrderedDict").op(')').reduce()
                .str("w").tensor2x3(6).setitem();
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
        assertRejected(new Pickles().proto(2).global("builtins", "eval").str("1+1").op(0x85).reduce().stop(),
                "data.pkl byte 2: global 'builtins.eval' is not allowed: Prism loads only tensors");
        // Protocol 4 names globals from the stack.
        assertRejected(new Pickles().proto(4).op(0x8c, 2).op('o', 's').op(0x8c, 6).op('s', 'y', 's', 't', 'e', 'm').op(0x93)
                .stop(), "global 'os.system' is not allowed");
        // INST names and calls a class in one opcode.
        assertRejected(new Pickles().proto(0).mark().str("ls").op('i').raw("subprocess\nPopen\n").stop(),
                "global 'subprocess.Popen' is not allowed");
        // A torch function that is not a state_dict's.
        assertRejected(new Pickles().proto(2).global("torch._utils", "_rebuild_qtensor").stop(),
                "global 'torch._utils._rebuild_qtensor' is not allowed");
        assertRejected(new Pickles().proto(2).global("torch", "load").stop(), "global 'torch.load' is not allowed");
    }

    @Test
    void allowedGlobalsOnlyDoWhatAStateDictNeeds() {
        assertRejected(new Pickles().proto(2).global("torch", "FloatStorage").op(')').reduce().stop(),
                "torch.FloatStorage is called; in a state_dict it only names a storage's dtype");
        assertRejected(new Pickles().proto(2).global("collections", "OrderedDict").integer(1).op(0x85).reduce().stop(),
                "collections.OrderedDict called with 1 arguments");
        assertRejected(new Pickles().proto(2).emptyDict().emptyDict().op('b').stop(),
                "BUILD of a dict with a dict; a state_dict sets state only on an OrderedDict");
        assertRejected(new Pickles().proto(2).global("torch._utils", "_rebuild_tensor_v2").integer(1).op(0x85).reduce().stop(),
                "_rebuild_tensor_v2 expects 6 or 7 arguments, found 1");
        assertRejected(new Pickles().proto(2).op('P').raw("0\n").stop(),
                "text persistent ids (PERSID) are not what torch.save writes");
    }

    @Test
    void lengthsBeyondThePickleFailBeforeAnythingIsAllocated() {
        assertRejected(new Pickles().proto(2).op('X', 0xff, 0xff, 0xff, 0x7f).op('a', 'b').stop(),
                "announces 2147483647 bytes, but 3 remain");
        assertRejected(new Pickles().proto(2).op('X', 0xff, 0xff, 0xff, 0xff).stop(), "announces -1 bytes");
        assertRejected(new Pickles().proto(4).op(0x8e, 0, 0, 0, 0, 0, 0, 0, 0x40).stop(), "announces 4611686018427387904 bytes");
        assertRejected(new Pickles().proto(2).op(0x8b, 0, 0, 0, 0x10).stop(), "announces 268435456 bytes");
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
        assertRejected(new Pickles().proto(2).emptyDict().op('q', 0).str("a").op('h', 0).setitem().stop(), "the dict at 'a' contains itself");
        // {[]: 1}: a list as a key (Java would hash it deeply, and forever if it held itself)
        assertRejected(new Pickles().proto(2).emptyDict().op(']').integer(1).setitem().stop(), "unhashable key or set element: a list");
        assertRejected(new Pickles().proto(2).op(']').stop(), "pickle holds a list at the top level; expected a dict of tensors");
        assertRejected(new Pickles().proto(2).tensor2x3(6).stop(), "pickle holds a tensor at the top level");
        assertRejected(new Pickles().proto(2).op('h', 7).stop(), "malformed pickle");
        assertRejected(new Pickles().proto(9).stop(), "malformed pickle");
        assertRejected(new Pickles().proto(2).op(0xff).stop(), "malformed pickle");
        assertRejected(new Pickles().proto(2).reduce().stop(), "malformed pickle");
        assertRejected(new Pickles().proto(2).emptyDict().str("w").tensor2x3(5).setitem().stop(),
                "tensor 'w': view offset 0, shape [2,3], stride [3,1] reaches element 5 of storage '0', which has 5 elements");
        Pickles deep = new Pickles().proto(2);
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
        Pickles p = new Pickles().proto(2).emptyDict().str("a").emptyDict().op('q', 1).str("w").tensor2x3(6).setitem().setitem()
                .str("b").op('h', 1).setitem().str("epoch").integer(3).setitem();
        TorchPickle.Parsed parsed = TorchPickle.parse("t.pth", p.stop().bytes());
        assertEquals(List.of("a.w", "b.w"), List.copyOf(parsed.tensors().keySet()));
        assertEquals(List.of("epoch"), parsed.ignored());
    }
}
