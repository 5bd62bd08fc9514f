package org.jvirtio.transport.core;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.DeviceActivation;
import org.jvirtio.api.device.VirtioDevice;

/**
 * The device the QueueService tests serve: two queues of at most 8 entries, VERSION_1 only, no
 * configuration; each test says what serving a queue does.
 */
abstract class TwoQueueDevice implements VirtioDevice {
    static final long FEATURES = VirtioFeature.bit(VirtioFeature.VERSION_1);

    @Override
    public int deviceId() {
        return 5;
    }

    @Override
    public int queueCount() {
        return 2;
    }

    @Override
    public int queueMaxSize(int index) {
        return 8;
    }

    @Override
    public long offeredFeatures() {
        return FEATURES;
    }

    @Override
    public int configSize() {
        return 0;
    }

    @Override
    public void readConfig(int offset, byte[] dst, int dstOffset, int length) {
    }

    @Override
    public void writeConfig(int offset, byte[] src, int srcOffset, int length) {
    }

    @Override
    public void activate(DeviceActivation a) {
    }

    @Override
    public void reset() {
    }
}
