package org.jvirtio.vring.packed;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.VringSetupException;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestMemory;

/** A packed ring with both sides in one test memory, and a raw view of it. */
final class PackedPair {
    static final int MAX_INDIRECT = 8;
    static final long PACKED = VirtioFeature.of(VirtioFeature.VERSION_1, VirtioFeature.RING_PACKED);

    final TestMemory memory;
    final QueueConfig config;
    final long features;
    final DriverQueue driver;
    final DeviceVring device;
    final RawPackedRing raw;

    /** {@code extraFeatures} are added to VERSION_1 and RING_PACKED. */
    PackedPair(int size, long extraFeatures) throws VringSetupException {
        this(new TestMemory(4 << 20), size, extraFeatures);
    }

    PackedPair(TestMemory memory, int size, long extraFeatures) throws VringSetupException {
        this.memory = memory;
        config = RingPlacement.place(memory, size);
        features = PACKED | extraFeatures;
        long indirectArea = RingPlacement.indirectArea(memory, size, MAX_INDIRECT);
        driver = Vrings.driver(config, features, memory.map(), indirectArea, MAX_INDIRECT);
        device = Vrings.device(config, features, memory.map());
        raw = new RawPackedRing(memory.map(), config);
    }

    /**
     * What a simple device does with a chain: copies its readable bytes, in order, into its writable
     * buffers as far as they reach, and returns the number of bytes written.
     */
    static int echo(DescriptorChain chain) {
        long toCopy = Math.min(chain.readableBytes(), chain.writableBytes());
        byte[] data = new byte[(int) toCopy];
        int got = 0;
        for (int i = 0; i < chain.readableCount() && got < data.length; i++) {
            int n = (int) Math.min(chain.length(i), data.length - got);
            chain.memory().read(chain.address(i), data, got, n);
            got += n;
        }
        int put = 0;
        for (int i = chain.readableCount(); i < chain.count() && put < data.length; i++) {
            int n = (int) Math.min(chain.length(i), data.length - put);
            chain.memory().write(chain.address(i), data, put, n);
            put += n;
        }
        return put;
    }
}
