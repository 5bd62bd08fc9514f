package org.jvirtio.benchmarks;

/**
 * The driver side of a single-thread device benchmark: makes chains available before the device
 * pops them, and takes them back after the device published them.
 */
interface Feed {

    /** Makes {@code chains} chains available to the device (visible: the index or flags are released). */
    void offer(int chains);

    /** Takes back {@code chains} chains the device has used and published. */
    void collect(int chains);

    /**
     * The shape every chain has: {@code descriptors} buffers of {@link RingRig#BUFFER_SIZE} bytes, one
     * device-writable buffer when there is only one, else the first half readable and the rest writable.
     */
    static boolean writable(int descriptors, int i) {
        return descriptors == 1 || i >= descriptors / 2;
    }
}
