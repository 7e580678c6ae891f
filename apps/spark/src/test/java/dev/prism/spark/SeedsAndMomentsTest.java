package dev.prism.spark;

import dev.prism.diffusion.eval.FeatureStatistics;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SeedsAndMomentsTest {
    @Test
    void seedRangesParseAndSplitIntoNearlyEqualConsecutiveParts() {
        assertEquals(new Seeds(5, 10), Seeds.parse("--seeds", "5..14", null, "--count"));
        assertEquals(new Seeds(5, 10), Seeds.parse("--seeds", "5..", 10L, "--count"));
        assertEquals(new Seeds(-3, 4), Seeds.parse("--seeds", "-3..0", 4L, "--count"));
        assertEquals(List.of(new Seeds(0, 4), new Seeds(4, 3), new Seeds(7, 3)), new Seeds(0, 10).split(3));
        assertEquals(List.of(new Seeds(0, 1), new Seeds(1, 1)), new Seeds(0, 2).split(5));
        assertEquals("--count expected 10 (the seeds 5..14 of --seeds), found 9",
                assertThrows(IllegalArgumentException.class, () -> Seeds.parse("--seeds", "5..14", 9L, "--count")).getMessage());
        assertEquals("--seeds expected FROM..TO, FROM.. or FROM with integer seeds, found 'a..b'",
                assertThrows(IllegalArgumentException.class, () -> Seeds.parse("--seeds", "a..b", null, "--count")).getMessage());
        assertEquals("--count expected at most 1 seeds from 9223372036854775807, found 2",
                assertThrows(IllegalArgumentException.class, () -> Seeds.parse("--seeds", Long.MAX_VALUE + "..", 2L, "--count")).getMessage());
    }

    @Test
    void momentsCombinedFromUnequalPartsGiveTheStatisticsOfAllTheFeatures() {
        int n = 103, d = 7;
        float[] f = new float[n * d];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < f.length; i++) {
            // an offset far from 0, where summing raw second moments would cancel
            f[i] = (float) (1000 + r.nextGaussian() * (1 + i % d));
        }
        FeatureStatistics all = FeatureStatistics.of(f, n, d);
        int[] cuts = {0, 1, 40, 41, 103};
        Moments m = null;
        for (int k = 0; k + 1 < cuts.length; k++) {
            float[] part = java.util.Arrays.copyOfRange(f, cuts[k] * d, cuts[k + 1] * d);
            Moments p = Moments.of(part, cuts[k + 1] - cuts[k], d);
            m = m == null ? p : m.plus(p);
        }
        FeatureStatistics combined = m.statistics();
        assertEquals(n, combined.count());
        for (int j = 0; j < d; j++) {
            assertEquals(all.mean()[j], combined.mean()[j], 1e-9 * Math.abs(all.mean()[j]));
        }
        for (int i = 0; i < d * d; i++) {
            assertEquals(all.covariance().data[i], combined.covariance().data[i], 1e-9 * (1 + Math.abs(all.covariance().data[i])), "entry " + i);
        }
    }
}
