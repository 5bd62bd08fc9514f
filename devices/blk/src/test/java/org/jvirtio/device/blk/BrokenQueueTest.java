package org.jvirtio.device.blk;

import static org.assertj.core.api.Assertions.assertThat;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.device.blk.backend.memory.MemoryBackend;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.testkit.RawSplitRing;
import org.jvirtio.vring.testkit.RecordingNotifier;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestMemory;
import org.junit.jupiter.api.Test;

/** A ring the driver broke stops its worker and asks the transport for DEVICE_NEEDS_RESET, once. */
class BrokenQueueTest {

    @Test
    void headOutOfRangeNeedsReset() throws Exception {
        TestMemory memory = new TestMemory(1 << 20);
        QueueConfig config = RingPlacement.place(memory, 8);
        BlockDevice device = new BlockDevice(MemoryBackend.of(1 << 20, false), BlockDeviceOptions.builder().queueSize(8).build());
        long features = device.offeredFeatures() & ~VirtioFeature.bit(VirtioFeature.RING_PACKED)
                & ~VirtioFeature.bit(VirtioFeature.RING_EVENT_IDX);
        DeviceVring queue = Vrings.device(config, features, memory.map());
        RecordingNotifier notifier = new RecordingNotifier();
        device.activate(BlkRig.activation(features, new DeviceQueue[] {queue}, memory.map(), notifier));

        new RawSplitRing(memory.map(), config).makeAvailable(9);
        device.queueNotified(0);
        assertThat(queue.error()).isEqualTo(QueueError.HEAD_OUT_OF_RANGE);
        assertThat(notifier.resets).containsExactly(QueueError.HEAD_OUT_OF_RANGE.description());
        device.queueNotified(0);
        assertThat(notifier.resets).hasSize(1);
        assertThat(memory.guardsIntact()).isTrue();

        // a reset brings the device back for a fresh activation
        device.reset();
        assertThat(device.isActive()).isFalse();
    }

    @Test
    void kicksOfAnInactiveDeviceOrAMissingQueueAreIgnored() {
        BlockDevice device = new BlockDevice(MemoryBackend.of(1 << 20, false), BlockDeviceOptions.defaults());
        device.queueNotified(0);
        device.queueNotified(-1);
        device.queueNotified(5);
        assertThat(device.totalErrors()).isZero();
    }
}
