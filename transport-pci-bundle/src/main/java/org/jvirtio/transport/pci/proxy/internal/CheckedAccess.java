package org.jvirtio.transport.pci.proxy.internal;

import org.jvirtio.transport.pci.proxy.PciFunction;

/**
 * Configuration and BAR accesses as QEMU forwards them, checked before the function sees them: a
 * configuration access must be 1, 2 or 4 bytes inside the 256-byte space; a BAR access 1, 2, 4 or 8
 * bytes of memory space inside a BAR the function decodes ({@link BarDecoder}). What fails reads
 * all-ones and writes nothing, counted. Values are masked to the access size both ways.
 *
 * <p>After a configuration write the BAR table and the interrupt route are refreshed: the write may
 * have moved a BAR, turned memory decoding on or off, routed the pin or disabled INTx.
 */
final class CheckedAccess {
    private static final long ALL_ONES = -1L;
    private static final int COMMAND = 0x04;
    private static final int COMMAND_INTX_DISABLE = 0x400;
    private static final int INTERRUPT_LINE = 0x3c;

    private final PciFunction function;
    private final ProxyInterrupts interrupts;
    private final ProxyCounters counters;
    private final BarDecoder bars = new BarDecoder();

    CheckedAccess(PciFunction function, ProxyInterrupts interrupts, ProxyCounters counters) {
        this.function = function;
        this.interrupts = interrupts;
        this.counters = counters;
        configChanged();
    }

    long readConfig(int address, int length) {
        long offset = Integer.toUnsignedLong(address);
        if (!validConfig(offset, length)) {
            counters.configOutOfRange.incrementAndGet();
            return 0xFFFF_FFFFL;
        }
        return Integer.toUnsignedLong(function.readConfig((int) offset, length)) & mask(length);
    }

    void writeConfig(int address, int length, int value) {
        long offset = Integer.toUnsignedLong(address);
        if (!validConfig(offset, length)) {
            counters.configOutOfRange.incrementAndGet();
            return;
        }
        function.writeConfig((int) offset, length, (int) (value & mask(length)));
        configChanged();
    }

    long readBar(long address, int size, boolean memorySpace) {
        long decoded = decode(address, size, memorySpace);
        if (decoded < 0) {
            return ALL_ONES;
        }
        return function.readBar(BarDecoder.bar(decoded), BarDecoder.offset(decoded), size) & mask(size);
    }

    void writeBar(long address, int size, boolean memorySpace, long value) {
        long decoded = decode(address, size, memorySpace);
        if (decoded >= 0) {
            function.writeBar(BarDecoder.bar(decoded), BarDecoder.offset(decoded), size, value & mask(size));
        }
    }

    /**
     * Re-reads what configuration writes and resets change: the BAR table, and for the interrupt
     * route where the firmware put the pin and whether INTx is disabled.
     */
    void configChanged() {
        bars.refresh(function);
        int line = function.readConfig(INTERRUPT_LINE, 1) & 0xff;
        boolean disabled = (function.readConfig(COMMAND, 2) & COMMAND_INTX_DISABLE) != 0;
        interrupts.configure(line, disabled);
    }

    private static boolean validConfig(long offset, int length) {
        return (length == 1 || length == 2 || length == 4) && offset >= 0
                && offset + length <= PciFunction.CONFIG_SPACE_SIZE;
    }

    /** The decoded access, or -1 (counted) for an I/O access, an odd size or an address no BAR holds. */
    private long decode(long address, int size, boolean memorySpace) {
        long decoded = memorySpace && (size == 1 || size == 2 || size == 4 || size == 8)
                ? bars.decode(address, size) : -1;
        if (decoded < 0) {
            counters.barUnmatched.incrementAndGet();
        }
        return decoded;
    }

    private static long mask(int length) {
        return length >= 8 ? ALL_ONES : (1L << (8 * length)) - 1;
    }
}
