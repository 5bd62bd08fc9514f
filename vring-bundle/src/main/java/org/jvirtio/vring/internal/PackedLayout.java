package org.jvirtio.vring.internal;

/**
 * Byte layout of a packed virtqueue of {@code n} entries (virtio 1.2 section 2.8), little-endian:
 *
 * <pre>
 * descriptor ring (align 16), n entries of 16 bytes, written by both sides:
 *   +0 addr u64 | +8 len u32 | +12 id u16 | +14 flags u16
 *   flags: NEXT 1 | WRITE 2 | INDIRECT 4 | AVAIL 1&lt;&lt;7 | USED 1&lt;&lt;15
 *   available: AVAIL == driver wrap counter, USED != it;  used: AVAIL == USED == device wrap counter
 * event suppression (align 4), one for each direction:
 *   +0 desc_event_off_wrap u16 (offset in bits 0-14, wrap counter in bit 15)
 *   +2 desc_event_flags u16 (bits 0-1: ENABLE 0 | DISABLE 1 | DESC 2; bits 2-15 reserved)
 *   driver area: written by the driver, controls used buffer notifications (interrupts)
 *   device area: written by the device, controls available buffer notifications (kicks)
 * indirect table: len / 16 entries in the descriptor format; only WRITE is meaningful, id ignored
 * </pre>
 *
 * <p>The two event suppression fields are read and written as one 32-bit word (off_wrap in the low
 * half, flags in the high half), so a reader never pairs new flags with a stale offset.
 */
final class PackedLayout {
    static final int DESC_SIZE = 16;
    static final int DESC_ADDR = 0;
    static final int DESC_LEN = 8;
    static final int DESC_ID = 12;
    static final int DESC_FLAGS = 14;

    static final int F_NEXT = 1;
    static final int F_WRITE = 2;
    static final int F_INDIRECT = 4;
    static final int F_AVAIL = 1 << 7;
    static final int F_USED = 1 << 15;

    static final int RING_ALIGN = 16;
    static final int EVENT_ALIGN = 4;
    static final int EVENT_BYTES = 4;

    static final int EVENT_OFF_WRAP = 0;
    static final int EVENT_FLAGS = 2;
    static final int EVENT_F_ENABLE = 0;
    static final int EVENT_F_DISABLE = 1;
    static final int EVENT_F_DESC = 2;
    static final int EVENT_FLAGS_MASK = 3;

    /** Bit 15 of a position or off_wrap: the wrap counter. */
    static final int WRAP_SHIFT = 15;
    static final int OFFSET_MASK = (1 << WRAP_SHIFT) - 1;

    private PackedLayout() {
    }

    static int ringBytes(int n) {
        return n * DESC_SIZE;
    }

    static int desc(int slot) {
        return slot * DESC_SIZE;
    }

    /** AVAIL and USED bits as the driver sets them with wrap counter {@code wrap}: AVAIL = wrap, USED = !wrap. */
    static int availFlags(boolean wrap) {
        return wrap ? F_AVAIL : F_USED;
    }

    /** AVAIL and USED bits as the device sets them with wrap counter {@code wrap}: both = wrap. */
    static int usedFlags(boolean wrap) {
        return wrap ? F_AVAIL | F_USED : 0;
    }

    /** Whether {@code flags} mark a descriptor available in the lap whose wrap counter is {@code wrap}. */
    static boolean isAvailable(int flags, boolean wrap) {
        return ((flags & F_AVAIL) != 0) == wrap && ((flags & F_USED) != 0) != wrap;
    }

    /** Whether {@code flags} mark a descriptor used in the lap whose wrap counter is {@code wrap}. */
    static boolean isUsed(int flags, boolean wrap) {
        return ((flags & F_AVAIL) != 0) == wrap && ((flags & F_USED) != 0) == wrap;
    }

    /** A ring position as vhost-user encodes it: 15-bit index, wrap counter in bit 15. */
    static int position(int index, boolean wrap) {
        return index | (wrap ? 1 << WRAP_SHIFT : 0);
    }

    /** The 32-bit event suppression word: off_wrap in the low half, flags in the high half. */
    static int eventWord(int offWrap, int flags) {
        return (offWrap & 0xFFFF) | (flags << 16);
    }

    static int eventOffWrap(int word) {
        return word & 0xFFFF;
    }

    static int eventFlags(int word) {
        return (word >>> 16) & EVENT_FLAGS_MASK;
    }

    /**
     * The EVENT_IDX rule for packed rings (Linux {@code virtqueue_kick_prepare_packed}, QEMU
     * {@code vring_packed_need_event}): the side that just moved its position from
     * {@code newIndex - count} to {@code newIndex} (ring slots, now in the lap with wrap counter
     * {@code wrap}) must notify if the peer's {@code offWrap} lies in that range.
     *
     * <p>Positions are made linear relative to the start of the current lap: an event offset whose
     * wrap counter is not the current one belongs to the previous lap and counts as {@code offset -
     * size} (negative), and the old position {@code newIndex - count} is negative when the batch
     * wrapped. The 16-bit {@link EventIndex#needsEvent} then does the window test as for split rings.
     * {@code count} is at most the ring size, so the window never spans more than one lap.
     */
    static boolean needsEvent(int offWrap, int newIndex, boolean wrap, int count, int size) {
        int event = offWrap & OFFSET_MASK;
        if (((offWrap >>> WRAP_SHIFT) & 1) != (wrap ? 1 : 0)) {
            event -= size;
        }
        return EventIndex.needsEvent(event & 0xFFFF, newIndex, (newIndex - count) & 0xFFFF);
    }
}
