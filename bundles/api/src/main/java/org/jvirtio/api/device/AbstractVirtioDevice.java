package org.jvirtio.api.device;

import java.util.Arrays;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * The common half of every device model: masks features that were never offered, serves
 * configuration space from a byte array (zero past its end), and runs activation and reset through
 * template methods so that a device only writes what is specific to it.
 */
@ConsumerType
public abstract class AbstractVirtioDevice implements VirtioDevice {
    private final int deviceId;
    private final int[] queueMaxSizes;
    private final long offeredFeatures;
    private volatile boolean active;
    private volatile long negotiatedFeatures;

    protected AbstractVirtioDevice(int deviceId, int[] queueMaxSizes, long offeredFeatures) {
        this.deviceId = deviceId;
        this.queueMaxSizes = queueMaxSizes.clone();
        this.offeredFeatures = offeredFeatures;
    }

    @Override
    public final int deviceId() {
        return deviceId;
    }

    @Override
    public final int queueCount() {
        return queueMaxSizes.length;
    }

    @Override
    public final int queueMaxSize(int index) {
        return index >= 0 && index < queueMaxSizes.length ? queueMaxSizes[index] : 0;
    }

    @Override
    public final long offeredFeatures() {
        return offeredFeatures;
    }

    /** The configuration space as it reads now; subclasses return a fresh copy or a stable array. */
    protected abstract byte[] configSpace();

    @Override
    public int configSize() {
        return configSpace().length;
    }

    @Override
    public final void readConfig(int offset, byte[] dst, int dstOffset, int length) {
        Arrays.fill(dst, dstOffset, dstOffset + length, (byte) 0);
        byte[] config = configSpace();
        if (offset < 0 || offset >= config.length) {
            return;
        }
        System.arraycopy(config, offset, dst, dstOffset, Math.min(length, config.length - offset));
    }

    /** By default the configuration space is read-only: writes are ignored. */
    @Override
    public void writeConfig(int offset, byte[] src, int srcOffset, int length) {
    }

    @Override
    public final void activate(DeviceActivation activation) {
        long features = activation.negotiatedFeatures() & offeredFeatures;
        if (active) {
            throw new DeviceActivationException("device is already active; reset it first");
        }
        negotiatedFeatures = features;
        onActivate(features, activation);
        active = true;
    }

    @Override
    public final void reset() {
        if (active) {
            active = false;
            onReset();
        }
        negotiatedFeatures = 0;
    }

    public final boolean isActive() {
        return active;
    }

    public final long negotiatedFeatures() {
        return negotiatedFeatures;
    }

    /** Starts the device with {@code features} (already masked to the offered ones). */
    protected abstract void onActivate(long features, DeviceActivation activation);

    /** Stops queue workers and forgets driver state. */
    protected abstract void onReset();
}
