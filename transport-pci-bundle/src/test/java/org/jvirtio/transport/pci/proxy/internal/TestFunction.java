package org.jvirtio.transport.pci.proxy.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.transport.pci.proxy.PciFunction;
import org.jvirtio.transport.pci.proxy.PciInterrupts;

/**
 * A small PCI function for proxy tests: a type 0 header with write masks (command, BAR sizing,
 * interrupt line), one memory BAR of {@link #BAR_SIZE} bytes whose first bytes are plain registers,
 * plus:
 * <ul>
 * <li>{@link #READS} counts reads of itself (proves a read reached the function),</li>
 * <li>a write to {@link #RAISE} raises INTx (1), lowers it (0), or sends an MSI with the value
 *     written to {@link #MSI_DATA} to the address in {@link #MSI_ADDRESS} (2).</li>
 * </ul>
 */
final class TestFunction implements PciFunction {
    static final int BAR_SIZE = 4096;
    static final int READS = 0x08;
    static final int RAISE = 0x40;
    static final int MSI_ADDRESS = 0x48;
    static final int MSI_DATA = 0x50;

    final GuestMemory memory;
    final PciInterrupts interrupts;
    private final ByteBuffer config = ByteBuffer.allocate(CONFIG_SPACE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer writable = ByteBuffer.allocate(CONFIG_SPACE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer bar = ByteBuffer.allocate(BAR_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    private final int barSize;
    int reads;
    /** A BAR offset whose read throws, to stand for a buggy function; -1 for none. */
    int throwOnReadAt = -1;
    int resets;
    int lastWriteOffset = -1;
    long lastWriteValue;

    TestFunction(GuestMemory memory, PciInterrupts interrupts, int vendor, int device, int classCode) {
        this(memory, interrupts, vendor, device, classCode, BAR_SIZE);
    }

    TestFunction(GuestMemory memory, PciInterrupts interrupts, int vendor, int device, int classCode, int barSize) {
        this.memory = memory;
        this.interrupts = interrupts;
        this.barSize = barSize;
        config.putShort(0x00, (short) vendor).putShort(0x02, (short) device);
        config.putInt(0x08, classCode << 8 | 0x01);
        config.putShort(0x2c, (short) vendor).putShort(0x2e, (short) 0x0001);
        config.put(0x3d, (byte) 1);
        writable.putShort(0x04, (short) 0x0547);
        writable.putInt(0x10, -barSize & 0xFFFF_FFF0);
        writable.put(0x3c, (byte) 0xff);
        bar.putInt(0, 0x4D505121);
    }

    @Override
    public int readConfig(int offset, int size) {
        int v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = v << 8 | (config.get(offset + i) & 0xff);
        }
        return v;
    }

    @Override
    public void writeConfig(int offset, int size, int value) {
        for (int i = 0; i < size; i++) {
            int mask = writable.get(offset + i) & 0xff;
            int old = config.get(offset + i) & 0xff;
            config.put(offset + i, (byte) (old & ~mask | (value >>> (8 * i)) & mask));
        }
    }

    @Override
    public int barSize(int index) {
        return index == 0 ? barSize : 0;
    }

    @Override
    public long readBar(int index, int offset, int size) {
        if (offset == throwOnReadAt) {
            throw new IllegalStateException("test function fails on purpose");
        }
        if (offset == READS) {
            return ++reads;
        }
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = v << 8 | (offset + i < BAR_SIZE ? bar.get(offset + i) & 0xff : 0);
        }
        return v;
    }

    @Override
    public void writeBar(int index, int offset, int size, long value) {
        lastWriteOffset = offset;
        lastWriteValue = value;
        for (int i = 0; i < size && offset + i < BAR_SIZE; i++) {
            bar.put(offset + i, (byte) (value >>> (8 * i)));
        }
        if (offset == RAISE) {
            if (value == 2) {
                interrupts.sendMsi(bar.getLong(MSI_ADDRESS), bar.getInt(MSI_DATA));
            } else {
                interrupts.setIntx(value == 1);
            }
        }
    }

    @Override
    public void reset() {
        resets++;
    }

    /** What {@link #guestMemoryInUse()} answers: a device of the function that has not returned yet. */
    volatile boolean memoryInUse;

    @Override
    public boolean guestMemoryInUse() {
        return memoryInUse;
    }
}
