package org.jvirtio.transport.pci.internal;

/**
 * The 256-byte type-0 configuration space as plain bytes with a write mask per byte: a write changes
 * only the bits its mask allows, so read-only registers (ids, class, header type, capabilities) and
 * the low bits of a BAR keep their value, and a BAR written with all ones reads back its size mask.
 *
 * <pre>
 *  0x00 vendor id        0x02 device id        0x04 command (mask 0x0547)   0x06 status
 *  0x08 revision         0x09 class code (3)   0x0c cache line (rw)         0x0d latency (rw)
 *  0x0e header type 0    0x10 BAR0 .. 0x24 BAR5                             0x2c subsystem vendor
 *  0x2e subsystem id     0x30 expansion ROM (none: 0)                       0x34 capabilities pointer
 *  0x3c interrupt line (rw)   0x3d interrupt pin (A)                        0x40.. capabilities
 * </pre>
 */
public final class ConfigHeader {
    public static final int SIZE = 256;
    public static final int VENDOR_ID = 0x00;
    public static final int DEVICE_ID = 0x02;
    public static final int COMMAND = 0x04;
    public static final int STATUS = 0x06;
    public static final int REVISION = 0x08;
    public static final int CLASS_CODE = 0x09;
    public static final int CACHE_LINE = 0x0c;
    public static final int LATENCY = 0x0d;
    public static final int HEADER_TYPE = 0x0e;
    public static final int BAR0 = 0x10;
    public static final int SUBSYSTEM_VENDOR_ID = 0x2c;
    public static final int SUBSYSTEM_ID = 0x2e;
    public static final int CAPABILITIES = 0x34;
    public static final int INTERRUPT_LINE = 0x3c;
    public static final int INTERRUPT_PIN = 0x3d;

    public static final int COMMAND_IO = 0x1;
    public static final int COMMAND_MEMORY = 0x2;
    public static final int COMMAND_MASTER = 0x4;
    public static final int COMMAND_PARITY = 0x40;
    public static final int COMMAND_SERR = 0x100;
    public static final int COMMAND_INTX_DISABLE = 0x400;
    public static final int STATUS_INTERRUPT = 0x08;
    public static final int STATUS_CAPABILITIES = 0x10;

    private final byte[] bytes = new byte[SIZE];
    private final byte[] writable = new byte[SIZE];
    /** The registers as built, for a function reset; null until {@link #seal()}. */
    private byte[] initial;

    /** A header with the given identity; BAR 0 is a 32-bit non-prefetchable memory BAR of {@code barSize}. */
    public ConfigHeader(int vendor, int device, int revision, int classCode, int subsystemVendor, int subsystem,
            int barSize) {
        set16(VENDOR_ID, vendor);
        set16(DEVICE_ID, device);
        bytes[REVISION] = (byte) revision;
        bytes[CLASS_CODE] = (byte) classCode;
        bytes[CLASS_CODE + 1] = (byte) (classCode >> 8);
        bytes[CLASS_CODE + 2] = (byte) (classCode >> 16);
        set16(SUBSYSTEM_VENDOR_ID, subsystemVendor);
        set16(SUBSYSTEM_ID, subsystem);
        bytes[INTERRUPT_PIN] = 1;
        setWritable16(COMMAND, COMMAND_IO | COMMAND_MEMORY | COMMAND_MASTER | COMMAND_PARITY | COMMAND_SERR
                | COMMAND_INTX_DISABLE);
        writable[CACHE_LINE] = (byte) 0xff;
        writable[LATENCY] = (byte) 0xff;
        writable[INTERRUPT_LINE] = (byte) 0xff;
        // memory BAR, 32-bit, not prefetchable: type bits 0-3 read 0; the address bits below the size too
        setWritable32(BAR0, ~(barSize - 1) & 0xFFFF_FFF0);
    }

    /** Whether {@code [offset, offset + size)} is a configuration-space access this header answers. */
    public static boolean validAccess(int offset, int size) {
        return (size == 1 || size == 2 || size == 4) && offset >= 0 && offset <= SIZE - size;
    }

    public int read(int offset, int size) {
        int v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = (v << 8) | (bytes[offset + i] & 0xff);
        }
        return v;
    }

    /** Writes the bits the mask allows; returns whether any byte was writable at all. */
    public boolean write(int offset, int size, int value) {
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

    /** Device-side store of a register (ignores the write mask). */
    public void set8(int offset, int value) {
        bytes[offset] = (byte) value;
    }

    public void set16(int offset, int value) {
        bytes[offset] = (byte) value;
        bytes[offset + 1] = (byte) (value >> 8);
    }

    public void set32(int offset, int value) {
        set16(offset, value);
        set16(offset + 2, value >>> 16);
    }

    public void setWritable8(int offset, int mask) {
        writable[offset] = (byte) mask;
    }

    public void setWritable16(int offset, int mask) {
        writable[offset] = (byte) mask;
        writable[offset + 1] = (byte) (mask >> 8);
    }

    public void setWritable32(int offset, int mask) {
        setWritable16(offset, mask);
        setWritable16(offset + 2, mask >>> 16);
    }

    public int command() {
        return read(COMMAND, 2);
    }

    public boolean intxDisabled() {
        return (command() & COMMAND_INTX_DISABLE) != 0;
    }

    /** Reflects the INTx state in the status register's interrupt bit. */
    public void setInterruptStatus(boolean pending) {
        int s = read(STATUS, 2);
        set16(STATUS, pending ? s | STATUS_INTERRUPT : s & ~STATUS_INTERRUPT);
    }

    /** Links a capability at {@code offset} of type {@code id} into the list (appended at its end). */
    public void addCapability(int offset, int id) {
        bytes[offset] = (byte) id;
        bytes[offset + 1] = 0;
        int at = CAPABILITIES;
        while ((bytes[at] & 0xff) != 0) {
            at = (bytes[at] & 0xff) + 1;
        }
        bytes[at] = (byte) offset;
        set16(STATUS, read(STATUS, 2) | STATUS_CAPABILITIES);
    }

    /** Remembers the registers as they are now (identity and capabilities built) as the reset state. */
    public void seal() {
        initial = bytes.clone();
    }

    /** Function reset: every register back to its sealed value (command 0, BAR unassigned, MSI-X off). */
    public void restore() {
        if (initial != null) {
            System.arraycopy(initial, 0, bytes, 0, SIZE);
        }
    }
}
