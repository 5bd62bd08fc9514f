package org.jvirtio.transport.vhostuser.component;

import org.jvirtio.api.device.DeviceActivation;
import org.jvirtio.api.device.VirtioDevice;

/**
 * Holds a device's place while no device serves a connected front end (its bundle is being updated,
 * its backend swapped): it looks like the device that left (id, queues, features, a snapshot of its
 * configuration space) and serves nothing, so the driver's requests wait in the rings until the next
 * device takes them. The front end does not notice, short of the wait.
 */
final class AbsentDevice implements VirtioDevice {
    private final int deviceId;
    private final int[] queueMaxSizes;
    private final long offeredFeatures;
    private final boolean concurrent;
    private final byte[] config;

    private AbsentDevice(VirtioDevice left) {
        this.deviceId = left.deviceId();
        this.queueMaxSizes = new int[left.queueCount()];
        for (int i = 0; i < queueMaxSizes.length; i++) {
            queueMaxSizes[i] = left.queueMaxSize(i);
        }
        this.offeredFeatures = left.offeredFeatures();
        this.concurrent = left.servesQueuesConcurrently();
        this.config = new byte[left.configSize()];
        left.readConfig(0, config, 0, config.length);
    }

    /** A stand-in for {@code left}, which must still answer for its configuration space. */
    static AbsentDevice standingInFor(VirtioDevice left) {
        return left instanceof AbsentDevice absent ? absent : new AbsentDevice(left);
    }

    @Override
    public int deviceId() {
        return deviceId;
    }

    @Override
    public int queueCount() {
        return queueMaxSizes.length;
    }

    @Override
    public int queueMaxSize(int index) {
        return index >= 0 && index < queueMaxSizes.length ? queueMaxSizes[index] : 0;
    }

    @Override
    public long offeredFeatures() {
        return offeredFeatures;
    }

    @Override
    public int configSize() {
        return config.length;
    }

    @Override
    public void readConfig(int offset, byte[] dst, int dstOffset, int length) {
        for (int i = 0; i < length; i++) {
            long at = (long) offset + i;
            dst[dstOffset + i] = at >= 0 && at < config.length ? config[(int) at] : 0;
        }
    }

    @Override
    public void writeConfig(int offset, byte[] src, int srcOffset, int length) {
        // dropped: the device that comes next starts from its own configuration
    }

    @Override
    public void activate(DeviceActivation activation) {
        // nothing to start: kicks are ignored and the chains stay available for the next device
    }

    @Override
    public void queueNotified(int index) {
    }

    @Override
    public boolean servesQueuesConcurrently() {
        return concurrent;
    }

    @Override
    public void reset() {
    }

    @Override
    public String toString() {
        return "AbsentDevice[id " + deviceId + ", " + queueMaxSizes.length + " queues]";
    }
}
