package org.jvirtio.transport.mmio.proxy.internal;

/**
 * The type-0 configuration space of the PCI function that carries virtio-mmio windows in its BAR0: an
 * identity no PCI driver binds (vendor "JV" 0x564a, device 0x4d4d "MM", class 0xff0000 "unassigned"),
 * interrupt pin A, one 32-bit non-prefetchable memory BAR0 and no capabilities. The guest's writes go
 * through a mask per byte, so identity bytes stay as they are and BAR0 written with all ones reads back
 * its size mask (BAR sizing).
 *
 * <pre>
 *  0x00 vendor 0x564a    0x02 device 0x4d4d    0x04 command (mask 0x0547)   0x06 status (interrupt bit)
 *  0x08 revision 1       0x09 class ff 00 00   0x0c cache line (rw)         0x0d latency (rw)
 *  0x0e header type 0    0x10 BAR0 (rw, size mask)                          0x2c subsystem vendor 0x564a
 *  0x2e subsystem 0x4d4d 0x3c interrupt line (rw)   0x3d interrupt pin A
 * </pre>
 *
 * Accessed by the proxy's thread only; the status interrupt bit is kept by {@link SharedInterruptLine}.
 */
final class SlotConfigSpace {
    static final int SIZE = 256;
    static final int VENDOR = 0x564a;
    static final int DEVICE = 0x4d4d;
    static final int CLASS_UNASSIGNED = 0xff0000;
    static final int COMMAND = 0x04;
    static final int STATUS = 0x06;
    static final int BAR0 = 0x10;
    static final int INTERRUPT_LINE = 0x3c;
    static final int INTERRUPT_PIN = 0x3d;
    static final int STATUS_INTERRUPT = 0x08;
    /** I/O, memory, bus master, parity, SERR, INTx disable: the command bits a guest may set. */
    static final int COMMAND_WRITABLE = 0x0547;

    private final byte[] initial = new byte[SIZE];
    private final byte[] bytes = new byte[SIZE];
    private final byte[] writable = new byte[SIZE];

    SlotConfigSpace(int barSize) {
        set(initial, 0x00, 2, VENDOR);
        set(initial, 0x02, 2, DEVICE);
        set(initial, 0x08, 1, 1);
        set(initial, 0x09, 3, CLASS_UNASSIGNED); // prog-if 0x00, subclass 0x00, base class 0xff
        set(initial, 0x2c, 2, VENDOR);
        set(initial, 0x2e, 2, DEVICE);
        set(initial, INTERRUPT_PIN, 1, 1);
        set(writable, COMMAND, 2, COMMAND_WRITABLE);
        set(writable, 0x0c, 1, 0xff);
        set(writable, 0x0d, 1, 0xff);
        set(writable, INTERRUPT_LINE, 1, 0xff);
        // memory BAR, 32-bit, not prefetchable: type bits 0-3 read 0, and the address bits below the size too
        set(writable, BAR0, 4, ~(barSize - 1) & 0xFFFF_FFF0);
        reset();
    }

    /** Little-endian read of {@code size} (1, 2 or 4) bytes; the caller has checked the range. */
    int read(int offset, int size, boolean interruptPending) {
        int v = 0;
        for (int i = size - 1; i >= 0; i--) {
            int b = bytes[offset + i] & 0xff;
            if (offset + i == STATUS && interruptPending) {
                b |= STATUS_INTERRUPT;
            }
            v = (v << 8) | b;
        }
        return v;
    }

    /** Writes the bits the mask allows; returns false if no byte of the access is writable at all. */
    boolean write(int offset, int size, int value) {
        boolean any = false;
        for (int i = 0; i < size; i++) {
            int mask = writable[offset + i] & 0xff;
            if (mask != 0) {
                any = true;
                int b = (value >>> (8 * i)) & 0xff;
                bytes[offset + i] = (byte) ((bytes[offset + i] & ~mask) | (b & mask));
            }
        }
        return any;
    }

    /** Function reset: command 0 (no decoding), BAR0 unassigned, interrupt line 0. */
    void reset() {
        System.arraycopy(initial, 0, bytes, 0, SIZE);
    }

    static boolean validAccess(int offset, int size) {
        return (size == 1 || size == 2 || size == 4) && offset >= 0 && offset <= SIZE - size;
    }

    private static void set(byte[] to, int offset, int size, int value) {
        for (int i = 0; i < size; i++) {
            to[offset + i] = (byte) (value >>> (8 * i));
        }
    }
}
