package org.jvirtio.transport.pci.proxy.internal;

import org.jvirtio.transport.pci.proxy.PciFunction;

/**
 * Turns the absolute address of a BAR access into (BAR, offset), as the function's own configuration
 * space places its BARs: base from the BAR register, size from {@link PciFunction#barSize}, and only
 * while the command register's memory-space bit is set. QEMU sends the address its copy of the BAR
 * mapped; ours decides, so an access that our function does not claim (its BAR moved, memory decoding
 * off) is refused rather than sent to the wrong register.
 *
 * <p>Bases change only through configuration writes, which pass through the proxy: the table is
 * {@link #refresh refreshed} after each one and after a reset, and decoding reads the cached table
 * only (no allocation, no call into the function).
 */
final class BarDecoder {
    static final int BARS = 6;
    private static final int COMMAND = 0x04;
    private static final int COMMAND_MEMORY_SPACE = 0x2;
    private static final int BAR0 = 0x10;
    private static final int BAR_IO_SPACE = 0x1;
    private static final int BAR_TYPE_MASK = 0x6;
    private static final long MEMORY_BASE_MASK = 0xFFFF_FFF0L;

    private final long[] bases = new long[BARS];
    /** Size of each decoding BAR, 0 where none decodes. */
    private final long[] sizes = new long[BARS];

    /** Re-reads command register and BAR registers from the function (the connection's thread). */
    void refresh(PciFunction function) {
        boolean memoryOn = (function.readConfig(COMMAND, 2) & COMMAND_MEMORY_SPACE) != 0;
        for (int i = 0; i < BARS; i++) {
            long size = Integer.toUnsignedLong(function.barSize(i));
            int register = function.readConfig(BAR0 + 4 * i, 4);
            boolean memory32 = (register & BAR_IO_SPACE) == 0 && (register & BAR_TYPE_MASK) == 0;
            long base = register & MEMORY_BASE_MASK;
            boolean valid = memoryOn && memory32 && size >= 16 && Long.bitCount(size) == 1
                    && (base & (size - 1)) == 0 && base + size <= 1L << 32;
            bases[i] = base;
            sizes[i] = valid ? size : 0;
        }
    }

    /**
     * The BAR and offset of an access of {@code length} bytes at absolute {@code address}, as
     * {@code (bar << 32) | offset}, or -1 if no decoding BAR holds all of it.
     */
    long decode(long address, int length) {
        for (int i = 0; i < BARS; i++) {
            long size = sizes[i];
            long offset = address - bases[i];
            if (size != 0 && address >= bases[i] && offset < size && length <= size - offset) {
                return ((long) i << 32) | offset;
            }
        }
        return -1;
    }

    static int bar(long decoded) {
        return (int) (decoded >>> 32);
    }

    static int offset(long decoded) {
        return (int) decoded;
    }
}
