package org.jvirtio.vring.internal;

/**
 * Byte layout of a split virtqueue of {@code n} entries (virtio 1.2 section 2.7), little-endian:
 *
 * <pre>
 * descriptor table (align 16), n entries of 16 bytes:
 *   +0 addr u64 | +8 len u32 | +12 flags u16 | +14 next u16
 * available ring (align 2), driver-written:
 *   +0 flags u16 | +2 idx u16 | +4 ring[n] u16 | +4+2n used_event u16 (EVENT_IDX)
 * used ring (align 4), device-written:
 *   +0 flags u16 | +2 idx u16 | +4 ring[n] {id u32, len u32} | +4+8n avail_event u16 (EVENT_IDX)
 * </pre>
 */
final class SplitLayout {
    static final int DESC_SIZE = 16;
    static final int DESC_ADDR = 0;
    static final int DESC_LEN = 8;
    static final int DESC_FLAGS = 12;
    static final int DESC_NEXT = 14;

    static final int F_NEXT = 1;
    static final int F_WRITE = 2;
    static final int F_INDIRECT = 4;

    static final int DESC_ALIGN = 16;
    static final int AVAIL_ALIGN = 2;
    static final int USED_ALIGN = 4;

    static final int AVAIL_FLAGS = 0;
    static final int AVAIL_IDX = 2;
    static final int AVAIL_RING = 4;
    /** In avail flags: the driver asks not to be interrupted. */
    static final int AVAIL_F_NO_INTERRUPT = 1;

    static final int USED_FLAGS = 0;
    static final int USED_IDX = 2;
    static final int USED_RING = 4;
    static final int USED_ELEM_SIZE = 8;
    /** In used flags: the device asks not to be kicked. */
    static final int USED_F_NO_NOTIFY = 1;

    private SplitLayout() {
    }

    static int descTableBytes(int n) {
        return n * DESC_SIZE;
    }

    static int availBytes(int n, boolean eventIdx) {
        return AVAIL_RING + 2 * n + (eventIdx ? 2 : 0);
    }

    static int usedBytes(int n, boolean eventIdx) {
        return USED_RING + USED_ELEM_SIZE * n + (eventIdx ? 2 : 0);
    }

    static int availEntry(int slot) {
        return AVAIL_RING + 2 * slot;
    }

    static int usedEvent(int n) {
        return AVAIL_RING + 2 * n;
    }

    static int usedEntry(int slot) {
        return USED_RING + USED_ELEM_SIZE * slot;
    }

    static int availEvent(int n) {
        return USED_RING + USED_ELEM_SIZE * n;
    }
}
