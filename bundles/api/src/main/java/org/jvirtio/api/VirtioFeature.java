package org.jvirtio.api;

/**
 * Device-independent feature bits (virtio 1.2 section 6) as bit numbers, and helpers to test and build
 * 64-bit feature words. Device-specific bits (0 to 23) live with each device model.
 */
public final class VirtioFeature {
    /** The driver may use indirect descriptor tables (section 2.7.5.3 / 2.8.13). */
    public static final int RING_INDIRECT_DESC = 28;
    /** used_event / avail_event fields suppress notifications (section 2.7.7, 2.7.10). */
    public static final int RING_EVENT_IDX = 29;
    /** Compliance with virtio 1.x; without it the device is legacy. */
    public static final int VERSION_1 = 32;
    /** Addresses in rings are IOVAs behind a platform IOMMU. */
    public static final int ACCESS_PLATFORM = 33;
    /** The packed virtqueue layout (section 2.8). */
    public static final int RING_PACKED = 34;
    /** Buffers are used in the order they were made available. */
    public static final int IN_ORDER = 35;
    /** Memory accesses are ordered as the platform requires (weak barriers otherwise). */
    public static final int ORDER_PLATFORM = 36;
    /** Single-root I/O virtualization. */
    public static final int SR_IOV = 37;
    /** The driver passes extra data (the next avail position) in its notifications. */
    public static final int NOTIFICATION_DATA = 38;
    /** The driver may pass a notification config data value. */
    public static final int NOTIF_CONFIG_DATA = 39;
    /** Individual virtqueues can be reset (section 2.6.1). */
    public static final int RING_RESET = 40;

    private VirtioFeature() {
    }

    /** The feature word with only {@code bit} set. */
    public static long bit(int bit) {
        if (bit < 0 || bit > 63) {
            throw new IllegalArgumentException("feature bit out of range: " + bit);
        }
        return 1L << bit;
    }

    /** Whether {@code features} has {@code bit} set. */
    public static boolean has(long features, int bit) {
        return (features & bit(bit)) != 0;
    }

    /** The feature word with all given bits set. */
    public static long of(int... bits) {
        long word = 0;
        for (int b : bits) {
            word |= bit(b);
        }
        return word;
    }
}
