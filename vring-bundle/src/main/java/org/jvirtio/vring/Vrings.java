package org.jvirtio.vring;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.vring.internal.PackedDeviceQueue;
import org.jvirtio.vring.internal.PackedDriverQueue;
import org.jvirtio.vring.internal.SplitDeviceQueue;
import org.jvirtio.vring.internal.SplitDriverQueue;

/**
 * Builds queues. The ring format follows the negotiated features (VIRTIO_F_RING_PACKED); ring
 * addresses, sizes and alignment are checked here, once, and resolved into views of guest memory.
 */
public final class Vrings {
    /** The largest queue either format allows. */
    public static final int MAX_QUEUE_SIZE = 32768;

    private Vrings() {
    }

    /** The device side of a fresh ring (positions 0, wrap counters 1). */
    public static DeviceVring device(QueueConfig config, long features, GuestMemory memory) throws VringSetupException {
        boolean packed = VirtioFeature.has(features, VirtioFeature.RING_PACKED);
        return device(config, features, memory, packed ? 1 << 15 : 0, packed ? 1 << 15 : 0);
    }

    /**
     * The device side of a ring that resumes at saved positions (see {@link DeviceVring} for their
     * encoding).
     */
    public static DeviceVring device(QueueConfig config, long features, GuestMemory memory, int availPosition,
            int usedPosition) throws VringSetupException {
        if (VirtioFeature.has(features, VirtioFeature.RING_PACKED)) {
            return new PackedDeviceQueue(config, features, memory, availPosition, usedPosition);
        }
        return new SplitDeviceQueue(config, features, memory, availPosition, usedPosition);
    }

    /**
     * The driver side of a ring whose areas the caller has placed in {@code memory}. The driver
     * initialises the ring areas itself.
     *
     * @param indirectArea guest address of {@code size * maxIndirect * 16} bytes for indirect tables,
     *                     or 0 when indirect descriptors are not used
     * @param maxIndirect  entries per indirect table
     */
    public static DriverQueue driver(QueueConfig config, long features, GuestMemory memory, long indirectArea,
            int maxIndirect) throws VringSetupException {
        if (VirtioFeature.has(features, VirtioFeature.RING_PACKED)) {
            return new PackedDriverQueue(config, features, memory, indirectArea, maxIndirect);
        }
        return new SplitDriverQueue(config, features, memory, indirectArea, maxIndirect);
    }

    /** The driver side without indirect tables. */
    public static DriverQueue driver(QueueConfig config, long features, GuestMemory memory) throws VringSetupException {
        return driver(config, features, memory, 0, 0);
    }
}
