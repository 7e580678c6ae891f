package dev.prism.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PeerTest {
    @Test
    void theTabSeparatedPeerOutputGivesMediansByCaseName() {
        Peer p = Peer.parse(List.of("#peer\ttorch=1.13.0 threads=2", "haar.dwt2\t0.16\t0.15\t0.17\t30", "conv2d.forward\t1.43\t1.4\t1.5\t30"));
        assertEquals("torch=1.13.0 threads=2", p.description());
        assertEquals(0.16, p.medians().get("haar.dwt2"));
        assertEquals(1.43, p.medians().get("conv2d.forward"));
        assertEquals(2, p.medians().size());
    }

    @Test
    void quantilesInterpolateBetweenRanks() {
        double[] v = {1, 2, 3, 4};
        assertEquals(2.5, BenchRunner.quantile(v, 0.5));
        assertEquals(1.75, BenchRunner.quantile(v, 0.25));
        assertEquals(4.0, BenchRunner.quantile(v, 1.0));
    }

    @Test
    void theOfficialWaveDiffTimingLineGivesItsMedianInMillisecondsUnderTheCaseName() {
        Peer p = Peer.parseWaveDiff("{\"case\": \"cifar10\", \"batch\": 100, \"threads\": 2, \"steps\": 4, \"torch\": \"1.13.0\", "
                + "\"repeats\": 3, \"seconds\": [9.9, 10.1, 10.4], \"median\": 10.1}", "model.wavediff.sample");
        assertEquals(10100.0, p.medians().get("model.wavediff.sample"), 1e-9);
        assertEquals(1, p.medians().size());
        assertEquals("PyTorch 1.13.0, the official WaveDiff code (cifar10, batch 100, 4 steps) on 2 threads, median of 3 runs after one untimed",
                p.description());
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Peer.parseWaveDiff("Traceback (most recent call last):", "model.wavediff.sample"));
        assertEquals("the official WaveDiff peer: expected a JSON line, found 'Traceback (most recent call last):'", e.getMessage());
    }
}
