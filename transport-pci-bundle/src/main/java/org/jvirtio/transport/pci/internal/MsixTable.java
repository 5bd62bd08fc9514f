package org.jvirtio.transport.pci.internal;

/**
 * The MSI-X table and pending-bit array (PCI Local Bus 3.0 section 6.8.2) in BAR memory: per vector a
 * 16-byte entry (message address low/high, message data, vector control with the mask bit) and a
 * pending bit. Plain state; the {@link InterruptRouter} holds the lock around every use.
 *
 * <pre>
 *  entry n at 16n:  +0 address low   +4 address high   +8 data   +12 vector control (bit 0 masked)
 *  PBA: bit n of the 64-bit word n / 64, read-only
 * </pre>
 * Accesses must be 4 or 8 bytes, aligned to their size (section 6.8.2.1 / 6.8.2.2); others are refused.
 */
public final class MsixTable {
    public static final int ENTRY_BYTES = 16;
    private static final int MASKED = 1;

    private final int vectors;
    /** Four ints per entry: address low, address high, data, vector control. */
    private final int[] entries;
    private final long[] pending;

    public MsixTable(int vectors) {
        this.vectors = vectors;
        this.entries = new int[4 * vectors];
        this.pending = new long[(vectors + 63) / 64];
        reset();
    }

    public int vectors() {
        return vectors;
    }

    /** Bytes of the table / the PBA. */
    public int tableBytes() {
        return vectors * ENTRY_BYTES;
    }

    public int pbaBytes() {
        return pending.length * 8;
    }

    /** Every entry masked with a zero message, nothing pending (the state after a function reset). */
    public void reset() {
        for (int v = 0; v < vectors; v++) {
            entries[4 * v] = 0;
            entries[4 * v + 1] = 0;
            entries[4 * v + 2] = 0;
            entries[4 * v + 3] = MASKED;
        }
        java.util.Arrays.fill(pending, 0);
    }

    /** Whether an access of {@code size} at {@code offset} is one a table or PBA of {@code bytes} takes. */
    public static boolean validAccess(int offset, int size, int bytes) {
        return (size == 4 || size == 8) && (offset & (size - 1)) == 0 && offset >= 0 && offset <= bytes - size;
    }

    /** Reads the table (the caller checked {@link #validAccess}). */
    public long readTable(int offset, int size) {
        long v = Integer.toUnsignedLong(entries[offset >> 2]);
        if (size == 8) {
            v |= Integer.toUnsignedLong(entries[(offset >> 2) + 1]) << 32;
        }
        return v;
    }

    /** Writes the table (the caller checked {@link #validAccess}). */
    public void writeTable(int offset, int size, long value) {
        store(offset >> 2, (int) value);
        if (size == 8) {
            store((offset >> 2) + 1, (int) (value >>> 32));
        }
    }

    private void store(int word, int value) {
        // vector control: only the mask bit is defined; the rest reads as zero
        entries[word] = (word & 3) == 3 ? value & MASKED : value;
    }

    public long readPba(int offset, int size) {
        long word = pending[offset >> 3];
        if (size == 8) {
            return word;
        }
        return (offset & 4) == 0 ? word & 0xFFFF_FFFFL : word >>> 32;
    }

    public boolean masked(int vector) {
        return (entries[4 * vector + 3] & MASKED) != 0;
    }

    public long address(int vector) {
        return Integer.toUnsignedLong(entries[4 * vector]) | (Integer.toUnsignedLong(entries[4 * vector + 1]) << 32);
    }

    public int data(int vector) {
        return entries[4 * vector + 2];
    }

    public boolean pending(int vector) {
        return (pending[vector >> 6] & (1L << vector)) != 0;
    }

    public void setPending(int vector, boolean on) {
        if (on) {
            pending[vector >> 6] |= 1L << vector;
        } else {
            pending[vector >> 6] &= ~(1L << vector);
        }
    }
}
