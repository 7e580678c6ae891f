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
}
