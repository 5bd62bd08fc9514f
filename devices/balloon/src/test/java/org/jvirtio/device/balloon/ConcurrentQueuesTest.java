package org.jvirtio.device.balloon;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.jvirtio.api.queue.ScatterGatherList;
import org.junit.jupiter.api.Test;

/**
 * The device says its queues may be served at once: inflateq and reporting_vq on two threads, while a
 * third moves the target and reads the configuration space. Every page ends up released exactly once
 * in the counts, and nothing breaks.
 */
class ConcurrentQueuesTest {
    private static final int ROUNDS = 300;

    @Test
    void inflateAndReportingRunInParallelWithTargetChanges() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            assertThat(rig.device.servesQueuesConcurrently()).isTrue();
            // inflate pages 1..ROUNDS from the top, report pages above them; no page is named twice
            long[] inflate = new long[ROUNDS];
            long[] report = new long[ROUNDS];
            long[] inflateArrays = new long[ROUNDS];
            for (int i = 0; i < ROUNDS; i++) {
                inflate[i] = rig.ram.page(1 + i);
                report[i] = rig.ram.page(1 + ROUNDS + i);
                rig.ram.fill(inflate[i], (byte) 1);
                rig.ram.fill(report[i], (byte) 2);
                inflateArrays[i] = rig.pfnArray(inflate[i]);
            }
            long before = rig.ram.allocatedBytes();

            CompletableFuture<Void> inflating = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < ROUNDS; i++) {
                    rig.submit(rig.layout.inflate(), new ScatterGatherList(1).addReadable(inflateArrays[i], 4));
                }
            });
            CompletableFuture<Void> reporting = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < ROUNDS; i++) {
                    rig.submit(rig.layout.reporting(), new ScatterGatherList(1).addWritable(report[i], 4096));
                }
            });
            CompletableFuture<Void> steering = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < ROUNDS; i++) {
                    rig.device.setTargetPages(i);
                    assertThat(Integer.toUnsignedLong(rig.configInt(BalloonConfigSpace.NUM_PAGES))).isLessThan(ROUNDS);
                }
            });
            CompletableFuture.allOf(inflating, reporting, steering).get(120, TimeUnit.SECONDS);

            assertThat(rig.device.count(BalloonCounter.PAGES_INFLATED)).isEqualTo(ROUNDS);
            assertThat(rig.device.count(BalloonCounter.BYTES_RELEASED)).isEqualTo(2L * ROUNDS * GuestRam.PAGE);
            assertThat(rig.ram.allocatedBytes()).isEqualTo(before - 2L * ROUNDS * GuestRam.PAGE);
            assertThat(rig.device.count(BalloonCounter.TARGET_CHANGES)).isEqualTo(ROUNDS);
            assertThat(rig.device.targetPages()).isEqualTo(ROUNDS - 1);
            assertThat(rig.notifier.resets).isEmpty();
        }
    }
}
