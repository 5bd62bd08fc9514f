package org.jvirtio.transport.mmio.internal;

import org.jvirtio.vring.QueueConfig;

/**
 * What the driver configured for one queue before enabling it, as virtio-mmio and virtio-pci both
 * keep it: size and ring addresses (in 32-bit halves), the ready bit, and the limit the device set.
 * Changes while the queue is ready are refused (spec 4.2.2.2 / 4.1.4.3.2). Transport-neutral and not
 * thread-safe (the transport's register lock).
 */
public final class QueueSetup {
    private final int maxSize;
    private final QueueConfig config = new QueueConfig();
    private boolean ready;

    public QueueSetup(int maxSize) {
        this.maxSize = maxSize;
    }

    public int maxSize() {
        return maxSize;
    }

    public boolean isReady() {
        return ready;
    }

    public void setReady(boolean ready) {
        this.ready = ready;
    }

    /** A copy of the configuration, for building the ring. */
    public QueueConfig config() {
        return config.copy();
    }

    /** Each setter returns false, changing nothing, while the queue is ready. */
    public boolean setSize(int size) {
        return unlessReady(() -> config.setSize(size));
    }

    public boolean setDescriptorLow(int low) {
        return unlessReady(() -> config.setDescriptorTableLow(low));
    }

    public boolean setDescriptorHigh(int high) {
        return unlessReady(() -> config.setDescriptorTableHigh(high));
    }

    public boolean setDriverLow(int low) {
        return unlessReady(() -> config.setDriverAreaLow(low));
    }

    public boolean setDriverHigh(int high) {
        return unlessReady(() -> config.setDriverAreaHigh(high));
    }

    public boolean setDeviceLow(int low) {
        return unlessReady(() -> config.setDeviceAreaLow(low));
    }

    public boolean setDeviceHigh(int high) {
        return unlessReady(() -> config.setDeviceAreaHigh(high));
    }

    private boolean unlessReady(Runnable change) {
        if (ready) {
            return false;
        }
        change.run();
        return true;
    }

    /**
     * Why the configured size cannot work, or null: it must be 1 to {@link #maxSize()} (the ring format's
     * own rules, a power of two for split rings, are checked when the ring is built).
     */
    public String sizeProblem() {
        int size = config.size();
        if (size <= 0 || size > maxSize) {
            return "queue size " + Integer.toUnsignedString(size) + " is not within 1.." + maxSize;
        }
        return null;
    }

    /** Device reset or queue reset: not ready, everything zero. */
    public void reset() {
        ready = false;
        config.reset();
    }
}
