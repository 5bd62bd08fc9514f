package org.jvirtio.vring.testkit;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.vring.QueueConfig;

/**
 * Writes a split ring by hand, the way a buggy or hostile driver could: any descriptor, any avail
 * entry, any index. For bad-input tests and fuzzing.
 */
public final class RawSplitRing {
    public static final int NEXT = 1;
    public static final int WRITE = 2;
    public static final int INDIRECT = 4;

    private final GuestMemory memory;
    private final QueueConfig config;
    private int availIdx;

    public RawSplitRing(GuestMemory memory, QueueConfig config) {
        this.memory = memory;
        this.config = config;
    }

    public RawSplitRing descriptor(int index, long address, int length, int flags, int next) {
        long at = config.descriptorTable() + 16L * index;
        memory.putLong(at, address);
        memory.putInt(at + 8, length);
        memory.putShort(at + 12, (short) flags);
        memory.putShort(at + 14, (short) next);
        return this;
    }

    /** Writes one 16-byte split descriptor into an indirect table at {@code table}. */
    public static void tableEntry(GuestMemory memory, long table, int index, long address, int length, int flags,
            int next) {
        long at = table + 16L * index;
        memory.putLong(at, address);
        memory.putInt(at + 8, length);
        memory.putShort(at + 12, (short) flags);
        memory.putShort(at + 14, (short) next);
    }

    /** Puts {@code head} in the next avail slot and publishes the index. */
    public RawSplitRing makeAvailable(int head) {
        memory.putShort(config.driverArea() + 4 + 2L * (availIdx % config.size()), (short) head);
        return setAvailIdx(availIdx + 1);
    }

    public RawSplitRing setAvailIdx(int idx) {
        availIdx = idx & 0xFFFF;
        memory.putShortRelease(config.driverArea() + 2, (short) availIdx);
        return this;
    }

    public int usedIdx() {
        return memory.getShortAcquire(config.deviceArea() + 2) & 0xFFFF;
    }

    public int usedId(int slot) {
        return memory.getInt(config.deviceArea() + 4 + 8L * slot);
    }

    public int usedLength(int slot) {
        return memory.getInt(config.deviceArea() + 8 + 8L * slot);
    }

    public void setUsedEvent(int value) {
        memory.putShort(config.driverArea() + 4 + 2L * config.size(), (short) value);
    }

    public void setAvailFlags(int flags) {
        memory.putShort(config.driverArea(), (short) flags);
    }

    public int usedFlags() {
        return memory.getShort(config.deviceArea()) & 0xFFFF;
    }

    public int availEvent() {
        return memory.getShort(config.deviceArea() + 4 + 8L * config.size()) & 0xFFFF;
    }
}
