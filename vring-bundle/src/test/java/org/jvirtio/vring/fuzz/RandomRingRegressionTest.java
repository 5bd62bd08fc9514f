package org.jvirtio.vring.fuzz;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * The fuzz target over many random inputs from a fixed seed: reproducible, and broader than the
 * stored corpus. A failure names the seed and iteration to replay.
 */
class RandomRingRegressionTest {

    @Test
    void randomRingsNeverEscapeTheQueue() {
        SplittableRandom random = new SplittableRandom(0x5EEDL);
        for (int i = 0; i < 3000; i++) {
            byte[] input = new byte[random.nextInt(64, 8192)];
            random.nextBytes(input);
            try {
                RingFuzzTarget.run(input);
            } catch (RuntimeException | AssertionError e) {
                throw new AssertionError("input " + i + " of seed 0x5EED", e);
            }
        }
    }
}
