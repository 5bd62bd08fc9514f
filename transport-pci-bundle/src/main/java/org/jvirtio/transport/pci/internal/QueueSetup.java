package org.jvirtio.transport.pci.internal;

import org.jvirtio.vring.QueueConfig;

/**
 * What the driver has set up for one queue before it enables it: size and ring addresses (a
 * {@link QueueConfig}), and whether it is enabled. Transport-neutral: virtio-pci's queue_* registers
 * and virtio-mmio's Queue* registers both write here. Set-up values may change only while the queue is
 * disabled; a size is accepted only if the ring format can use it.
 */
public final class QueueSetup {
    private final int index;
    private final int maxSize;
    private final QueueConfig config = new QueueConfig();
    private boolean enabled;

    public QueueSetup(int index, int maxSize) {
        this.index = index;
        this.maxSize = maxSize;
        reset();
    }

    public int index() {
        return index;
    }

    public int maxSize() {
        return maxSize;
    }

    public QueueConfig config() {
        return config;
    }

    public boolean enabled() {
        return enabled;
    }

    void setEnabled(boolean on) {
        enabled = on;
    }

    public int size() {
        return config.size();
    }

    /**
     * Why {@code size} cannot be this queue's size, or null: not zero, at most the maximum, and for split
     * rings a power of two (packed rings take any size).
     */
    public String sizeProblem(int size, boolean packed) {
        if (size <= 0 || size > maxSize) {
            return "queue " + index + ": size " + size + " not in 1.." + maxSize;
        }
        if (!packed && Integer.bitCount(size) != 1) {
            return "queue " + index + ": size " + size + " is not a power of two (split ring)";
        }
        return null;
    }

    /** Back to the state after reset: disabled, maximum size, no addresses. */
    public void reset() {
        config.reset();
        config.setSize(maxSize);
        enabled = false;
    }
}
