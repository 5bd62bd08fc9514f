package org.jvirtio.transport.pci.internal;

/**
 * The PCI configuration access capability (virtio 1.2 section 4.1.4.9): a window through which a
 * driver without BAR mappings reaches the BAR. The driver writes bar, offset and length into the
 * capability, then reads or writes pci_cfg_data; the device performs that access on the BAR. A window
 * that is not one BAR 0 takes (length 1, 2 or 4, aligned, inside the BAR) is refused and counted: a
 * read then finds zero in pci_cfg_data, a write does nothing.
 *
 * <p>The BAR access runs without the interrupt lock held (it may reset the device, which waits for
 * workers that take that lock), so the capability's fields are read and stored one access at a time.
 */
final class PciCfgWindow {
    interface Bar {
        long read(int offset, int size);

        void write(int offset, int size, long value);
    }

    private final InterruptRouter config;
    private final Faults faults;
    private final Bar bar;

    PciCfgWindow(InterruptRouter config, Faults faults, Bar bar) {
        this.config = config;
        this.faults = faults;
        this.bar = bar;
    }

    /** Whether a configuration access of {@code size} at {@code offset} touches pci_cfg_data. */
    static boolean touchesData(int offset, int size) {
        int data = CapabilityLayout.PCI_CFG_DATA;
        return offset < data + 4 && data < offset + size;
    }

    /** Before a read of pci_cfg_data: performs the BAR read and stores it there. */
    void beforeRead() {
        int length = length();
        int offset = offset();
        int value = valid(length, offset) ? (int) bar.read(offset, length) : 0;
        config.writeConfig(CapabilityLayout.PCI_CFG_DATA, 4, value);
    }

    /** After a write of pci_cfg_data: performs the BAR write of its first {@code length} bytes. */
    void afterWrite() {
        int length = length();
        int offset = offset();
        if (valid(length, offset)) {
            bar.write(offset, length, Integer.toUnsignedLong(config.readConfig(CapabilityLayout.PCI_CFG_DATA, 4)));
        }
    }

    private int length() {
        return config.readConfig(CapabilityLayout.PCI_CFG_LENGTH, 4);
    }

    private int offset() {
        return config.readConfig(CapabilityLayout.PCI_CFG_OFFSET, 4);
    }

    private boolean valid(int length, int offset) {
        int index = config.readConfig(CapabilityLayout.PCI_CFG_BAR, 1);
        boolean ok = index == BarLayout.BAR && (length == 1 || length == 2 || length == 4)
                && (offset & (length - 1)) == 0 && offset >= 0 && offset <= BarLayout.SIZE - length;
        if (!ok) {
            faults.record(Fault.PCI_CFG_WINDOW_INVALID, "bar " + index + " offset 0x" + Integer.toHexString(offset)
                    + " length " + length);
        }
        return ok;
    }
}
