package org.jvirtio.transport.core;

import org.jvirtio.vring.QueueConfig;

/**
 * What the driver sets up for one queue before it enables it: size and ring addresses (whole, or in the
 * 32-bit halves both register layouts use), whether it is enabled, and the limit the device set.
 * virtio-pci's queue_* registers and virtio-mmio's Queue* registers both write here. Set-up values
 * change only while the queue is disabled (spec 4.1.4.3.2, 4.2.2.2): every setter says whether it did.
 * Not thread-safe (the transport's register thread).
 */
public final class QueueSetup {
    private final int index;
    private final int maxSize;
    /** The size after a reset: the maximum (PCI's queue_size reads it), or 0 (MMIO's QueueNum must be written). */
    private final int resetSize;
    private final QueueConfig config = new QueueConfig();
    private boolean enabled;

    private QueueSetup(int index, int maxSize, int resetSize) {
        this.index = index;
        this.maxSize = maxSize;
        this.resetSize = resetSize;
        reset();
    }

    /** A queue whose size reads as its maximum after reset, as virtio-pci's queue_size does (spec 4.1.4.3). */
    public static QueueSetup sizedAtMaximum(int index, int maxSize) {
        return new QueueSetup(index, maxSize, maxSize);
    }

    /** A queue with no size until the driver writes one, as virtio-mmio's write-only QueueNum (spec 4.2.2). */
    public static QueueSetup unsized(int index, int maxSize) {
        return new QueueSetup(index, maxSize, 0);
    }

    public int index() {
        return index;
    }

    public int maxSize() {
        return maxSize;
    }

    public int size() {
        return config.size();
    }

    public long descriptorTable() {
        return config.descriptorTable();
    }

    public long driverArea() {
        return config.driverArea();
    }

    public long deviceArea() {
        return config.deviceArea();
    }

    /** A copy of the set-up, for building the ring (the copy does not change with later writes). */
    public QueueConfig config() {
        return config.copy();
    }

    public boolean enabled() {
        return enabled;
    }

    public void setEnabled(boolean on) {
        enabled = on;
    }

    /** Each setter returns false, changing nothing, while the queue is enabled. */
    public boolean setSize(int size) {
        return unlessEnabled(() -> config.setSize(size));
    }

    public boolean setDescriptorTable(long address) {
        return unlessEnabled(() -> config.setDescriptorTable(address));
    }

    public boolean setDescriptorLow(int low) {
        return unlessEnabled(() -> config.setDescriptorTableLow(low));
    }

    public boolean setDescriptorHigh(int high) {
        return unlessEnabled(() -> config.setDescriptorTableHigh(high));
    }

    public boolean setDriverArea(long address) {
        return unlessEnabled(() -> config.setDriverArea(address));
    }

    public boolean setDriverLow(int low) {
        return unlessEnabled(() -> config.setDriverAreaLow(low));
    }

    public boolean setDriverHigh(int high) {
        return unlessEnabled(() -> config.setDriverAreaHigh(high));
    }

    public boolean setDeviceArea(long address) {
        return unlessEnabled(() -> config.setDeviceArea(address));
    }

    public boolean setDeviceLow(int low) {
        return unlessEnabled(() -> config.setDeviceAreaLow(low));
    }

    public boolean setDeviceHigh(int high) {
        return unlessEnabled(() -> config.setDeviceAreaHigh(high));
    }

    private boolean unlessEnabled(Runnable change) {
        if (enabled) {
            return false;
        }
        change.run();
        return true;
    }

    /**
     * Why {@code size} cannot be this queue's size, or null: not zero, at most the maximum, and for split
     * rings a power of two (packed rings take any size).
     */
    public String sizeProblem(int size, boolean packed) {
        if (size <= 0 || size > maxSize) {
            return "queue " + index + ": size " + Integer.toUnsignedString(size) + " not in 1.." + maxSize;
        }
        if (!packed && Integer.bitCount(size) != 1) {
            return "queue " + index + ": size " + size + " is not a power of two (split ring)";
        }
        return null;
    }

    /** Device reset or queue reset: disabled, the size after reset, no addresses. */
    public void reset() {
        config.reset();
        config.setSize(resetSize);
        enabled = false;
    }
}
