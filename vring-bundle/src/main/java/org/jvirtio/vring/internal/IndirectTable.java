package org.jvirtio.vring.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.QueueError;

/**
 * A private copy of one indirect descriptor table. The table is copied out of guest memory in one
 * bulk read, so the walk sees one consistent table even if the driver rewrites it meanwhile, and the
 * hot path needs one address translation per table instead of one per field. Both ring formats use
 * 16-byte entries: address at +0, length at +8, format-specific 16-bit fields at +12 and +14.
 */
final class IndirectTable {
    static final int ENTRY_SIZE = 16;

    private final ByteBuffer copy;
    private int entries;

    IndirectTable(int maxEntries) {
        copy = ByteBuffer.allocate(maxEntries * ENTRY_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    }

    int maxEntries() {
        return copy.capacity() / ENTRY_SIZE;
    }

    /** Copies the table at {@code address}, or says why it cannot be used. */
    QueueError load(GuestMemory memory, long address, int length) {
        long bytes = Integer.toUnsignedLong(length);
        if (bytes == 0 || bytes % ENTRY_SIZE != 0 || bytes > copy.capacity()) {
            return QueueError.INDIRECT_BAD_LENGTH;
        }
        if (!memory.contains(address, bytes)) {
            return QueueError.INDIRECT_OUTSIDE_MEMORY;
        }
        copy.clear().limit((int) bytes);
        memory.read(address, copy);
        entries = (int) (bytes / ENTRY_SIZE);
        return QueueError.NONE;
    }

    int entries() {
        return entries;
    }

    long address(int i) {
        return copy.getLong(i * ENTRY_SIZE);
    }

    int length(int i) {
        return copy.getInt(i * ENTRY_SIZE + 8);
    }

    /** The unsigned 16-bit field at {@code fieldOffset} (12 or 14) of entry {@code i}. */
    int u16(int i, int fieldOffset) {
        return copy.getShort(i * ENTRY_SIZE + fieldOffset) & 0xFFFF;
    }
}
