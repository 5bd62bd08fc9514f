package org.jvirtio.transport.mmio;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.jvirtio.api.device.DeviceActivation;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.device.blk.BlockDevice;
import org.jvirtio.device.blk.BlockDeviceOptions;
import org.jvirtio.device.blk.backend.memory.MemoryBackend;

/** Real device models for the transport tests. */
final class Devices {
    static final int DISK_BYTES = 1 << 20;
    static final int QUEUE_SIZE = 64;

    private Devices() {
    }

    /** A virtio-blk device over a RAM disk whose bytes {@code disk} shares. */
    static BlockDevice blk(ByteBuffer disk) {
        return new BlockDevice(new MemoryBackend(disk, false, 512),
                BlockDeviceOptions.builder().queueSize(QUEUE_SIZE).serial("mmio-test").packed(true).build());
    }

    static BlockDevice blk() {
        return blk(ByteBuffer.allocateDirect(DISK_BYTES));
    }

    /**
     * A device that forwards to another and offers extra feature bits the transport handles alone
     * (VIRTIO_F_RING_RESET), remembering the threads that served its queues.
     */
    static final class Forwarding extends Wrapper {
        private final long extraFeatures;
        final Set<Thread> servingThreads = ConcurrentHashMap.newKeySet();

        Forwarding(VirtioDevice inner, long extraFeatures) {
            super(inner);
            this.extraFeatures = extraFeatures;
        }

        @Override
        public long offeredFeatures() {
            return inner.offeredFeatures() | extraFeatures;
        }

        @Override
        public void activate(DeviceActivation activation) {
            super.activate(activation);
            inner.activate(activation);
        }

        @Override
        public void queueNotified(int index) {
            servingThreads.add(Thread.currentThread());
            inner.queueNotified(index);
        }

        @Override
        public boolean servesQueuesConcurrently() {
            return inner.servesQueuesConcurrently();
        }

        /** The inner device resets; the last activation stays, for tests that look at it afterwards. */
        @Override
        public void reset() {
            inner.reset();
        }

        @Override
        public Map<String, Long> counters() {
            return inner.counters();
        }
    }

    /** A device that answers as {@code inner} for identity and configuration and keeps its activation. */
    abstract static class Wrapper implements VirtioDevice {
        final VirtioDevice inner;
        /** What the transport handed over at the last DRIVER_OK. */
        volatile DeviceActivation activation;

        Wrapper(VirtioDevice inner) {
            this.inner = inner;
        }

        @Override
        public int deviceId() {
            return inner.deviceId();
        }

        @Override
        public int queueCount() {
            return inner.queueCount();
        }

        @Override
        public int queueMaxSize(int index) {
            return inner.queueMaxSize(index);
        }

        @Override
        public long offeredFeatures() {
            return inner.offeredFeatures();
        }

        @Override
        public int configSize() {
            return inner.configSize();
        }

        @Override
        public void readConfig(int offset, byte[] dst, int dstOffset, int length) {
            inner.readConfig(offset, dst, dstOffset, length);
        }

        @Override
        public void writeConfig(int offset, byte[] src, int srcOffset, int length) {
            inner.writeConfig(offset, src, srcOffset, length);
        }

        @Override
        public void activate(DeviceActivation activation) {
            this.activation = activation;
        }

        @Override
        public void reset() {
            activation = null;
        }
    }
}
