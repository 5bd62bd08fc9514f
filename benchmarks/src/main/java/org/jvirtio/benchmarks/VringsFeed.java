package org.jvirtio.benchmarks;

import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.vring.VringSetupException;
import org.jvirtio.vring.Vrings;

/**
 * The real driver side ({@link Vrings#driver}): adds a batch of scatter-gather lists and kicks, and after
 * the device published them polls every used buffer back. Its cost is part of what is measured.
 */
final class VringsFeed implements Feed {
    private final DriverQueue driver;
    private final ScatterGatherList[] lists;
    private final boolean indirect;

    VringsFeed(RingRig rig, long features, int descriptors, boolean indirect, int batch) throws VringSetupException {
        this.indirect = indirect;
        driver = indirect ? Vrings.driver(rig.config.copy(), features, rig.memory, rig.indirectArea, rig.maxIndirect)
                : Vrings.driver(rig.config.copy(), features, rig.memory);
        lists = new ScatterGatherList[batch];
        for (int t = 0; t < batch; t++) {
            ScatterGatherList sg = new ScatterGatherList(descriptors);
            for (int i = 0; i < descriptors; i++) {
                if (Feed.writable(descriptors, i)) {
                    sg.addWritable(rig.buffer(t, i), RingRig.BUFFER_SIZE);
                } else {
                    sg.addReadable(rig.buffer(t, i), RingRig.BUFFER_SIZE);
                }
            }
            lists[t] = sg;
        }
    }

    DriverQueue queue() {
        return driver;
    }

    @Override
    public void offer(int n) {
        for (int t = 0; t < n; t++) {
            if (!driver.add(lists[t], t, indirect)) {
                throw new IllegalStateException("driver ring full at chain " + t + ": " + driver.error());
            }
        }
        driver.kick();
    }

    @Override
    public void collect(int n) {
        for (int k = 0; k < n; k++) {
            if (driver.pollUsed() == DriverQueue.NO_TOKEN) {
                throw new IllegalStateException("chain " + k + " of " + n + " not used: " + driver.error());
            }
        }
    }
}
