package org.jvirtio.vring.packed;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.vring.QueueConfig;

/**
 * Writes and reads a packed ring by hand, the way a buggy or hostile peer could: any descriptor, any
 * flags, any event suppression word. {@link #offer} plays a driver that keeps its own position and
 * wrap counter; {@link #descriptor} writes anything anywhere.
 */
final class RawPackedRing {
    static final int NEXT = 1;
    static final int WRITE = 2;
    static final int INDIRECT = 4;
    static final int AVAIL = 1 << 7;
    static final int USED = 1 << 15;

    static final int ENABLE = 0;
    static final int DISABLE = 1;
    static final int DESC = 2;

    private final GuestMemory memory;
    private final QueueConfig config;
    private int next;
    private boolean wrap = true;

    RawPackedRing(GuestMemory memory, QueueConfig config) {
        this.memory = memory;
        this.config = config;
    }

    /** Writes one descriptor verbatim, flags last. */
    RawPackedRing descriptor(int slot, long address, int length, int id, int flags) {
        long at = config.descriptorTable() + 16L * slot;
        memory.putLong(at, address);
        memory.putInt(at + 8, length);
        memory.putShort(at + 12, (short) id);
        memory.putShortRelease(at + 14, (short) flags);
        return this;
    }

    /**
     * Writes the next descriptor as a driver would, AVAIL/USED for the current lap added to
     * {@code flags}, and moves on (flipping the wrap counter at the ring end).
     */
    RawPackedRing offer(long address, int length, int id, int flags) {
        descriptor(next, address, length, id, flags | (wrap ? AVAIL : USED));
        if (++next == config.size()) {
            next = 0;
            wrap = !wrap;
        }
        return this;
    }

    /** Writes one packed-format entry of an indirect table. */
    static void tableEntry(GuestMemory memory, long table, int index, long address, int length, int flags) {
        long at = table + 16L * index;
        memory.putLong(at, address);
        memory.putInt(at + 8, length);
        memory.putShort(at + 12, (short) 0);
        memory.putShort(at + 14, (short) flags);
    }

    int id(int slot) {
        return memory.getShort(config.descriptorTable() + 16L * slot + 12) & 0xFFFF;
    }

    int length(int slot) {
        return memory.getInt(config.descriptorTable() + 16L * slot + 8);
    }

    int flags(int slot) {
        return memory.getShortAcquire(config.descriptorTable() + 16L * slot + 14) & 0xFFFF;
    }

    /** Writes a used descriptor as a device would with wrap counter {@code wrap}. */
    RawPackedRing used(int slot, int id, int length, boolean wrap) {
        long at = config.descriptorTable() + 16L * slot;
        memory.putInt(at + 8, length);
        memory.putShort(at + 12, (short) id);
        memory.putShortRelease(at + 14, (short) ((wrap ? AVAIL | USED : 0) | (length != 0 ? WRITE : 0)));
        return this;
    }

    static int offWrap(int offset, boolean wrap) {
        return offset | (wrap ? 1 << 15 : 0);
    }

    /** The driver event suppression area (read by the device). */
    void setDriverEvent(int offWrap, int flags) {
        memory.putShort(config.driverArea(), (short) offWrap);
        memory.putShort(config.driverArea() + 2, (short) flags);
    }

    int driverEventOffWrap() {
        return memory.getShort(config.driverArea()) & 0xFFFF;
    }

    int driverEventFlags() {
        return memory.getShort(config.driverArea() + 2) & 0xFFFF;
    }

    /** The device event suppression area (read by the driver). */
    void setDeviceEvent(int offWrap, int flags) {
        memory.putShort(config.deviceArea(), (short) offWrap);
        memory.putShort(config.deviceArea() + 2, (short) flags);
    }

    int deviceEventOffWrap() {
        return memory.getShort(config.deviceArea()) & 0xFFFF;
    }

    int deviceEventFlags() {
        return memory.getShort(config.deviceArea() + 2) & 0xFFFF;
    }
}
