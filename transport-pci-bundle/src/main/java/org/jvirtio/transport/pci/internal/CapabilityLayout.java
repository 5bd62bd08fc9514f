package org.jvirtio.transport.pci.internal;

/**
 * The capability list in configuration space: the virtio vendor capabilities (virtio 1.2 section
 * 4.1.4) pointing into BAR 0, then MSI-X.
 *
 * <pre>
 *  0x40 COMMON_CFG  (16)   vndr 0x09, next, len, cfg_type, bar, id, pad[2], offset u32, length u32
 *  0x50 NOTIFY_CFG  (20)   ... + notify_off_multiplier u32
 *  0x64 ISR_CFG     (16)
 *  0x74 DEVICE_CFG  (16)   only if the device has configuration space
 *  0x84 PCI_CFG     (20)   bar, offset, length writable; pci_cfg_data u32 at +16: a window into the BARs
 *  0x98 MSI-X       (12)   id 0x11, next, message control u16, table offset|BIR u32, PBA offset|BIR u32
 * </pre>
 */
public final class CapabilityLayout {
    public static final int VENDOR = 0x09;
    public static final int MSIX = 0x11;
    public static final int COMMON_CFG = 1;
    public static final int NOTIFY_CFG = 2;
    public static final int ISR_CFG = 3;
    public static final int DEVICE_CFG = 4;
    public static final int PCI_CFG = 5;

    public static final int CAP_COMMON = 0x40;
    public static final int CAP_NOTIFY = 0x50;
    public static final int CAP_ISR = 0x64;
    public static final int CAP_DEVICE = 0x74;
    public static final int CAP_PCI_CFG = 0x84;
    public static final int CAP_MSIX = 0x98;

    /** Fields of the PCI_CFG capability. */
    public static final int PCI_CFG_BAR = CAP_PCI_CFG + 4;
    public static final int PCI_CFG_OFFSET = CAP_PCI_CFG + 8;
    public static final int PCI_CFG_LENGTH = CAP_PCI_CFG + 12;
    public static final int PCI_CFG_DATA = CAP_PCI_CFG + 16;

    private static final int MSIX_WRITABLE = 0xC000; // enable, function mask

    private CapabilityLayout() {
    }

    /** Builds the list into {@code header} for a device with {@code configSize} bytes of config and {@code vectors} MSI-X vectors. */
    public static void build(ConfigHeader header, int queues, int configSize, int vectors) {
        vendor(header, CAP_COMMON, 16, COMMON_CFG, BarLayout.COMMON, BarLayout.COMMON_LENGTH);
        vendor(header, CAP_NOTIFY, 20, NOTIFY_CFG, BarLayout.NOTIFY, Math.max(queues, 1) * BarLayout.NOTIFY_OFF_MULTIPLIER);
        header.set32(CAP_NOTIFY + 16, BarLayout.NOTIFY_OFF_MULTIPLIER);
        vendor(header, CAP_ISR, 16, ISR_CFG, BarLayout.ISR, 1);
        if (configSize > 0) {
            vendor(header, CAP_DEVICE, 16, DEVICE_CFG, BarLayout.DEVICE, Math.min((configSize + 3) & ~3, BarLayout.REGION));
        }
        vendor(header, CAP_PCI_CFG, 20, PCI_CFG, 0, 0);
        header.setWritable8(PCI_CFG_BAR, 0xff);
        header.setWritable32(PCI_CFG_OFFSET, 0xFFFF_FFFF);
        header.setWritable32(PCI_CFG_LENGTH, 0xFFFF_FFFF);
        header.setWritable32(PCI_CFG_DATA, 0xFFFF_FFFF);
        header.addCapability(CAP_MSIX, MSIX);
        header.set16(CAP_MSIX + 2, vectors - 1);
        header.setWritable16(CAP_MSIX + 2, MSIX_WRITABLE);
        header.set32(CAP_MSIX + 4, BarLayout.MSIX_TABLE | BarLayout.BAR);
        header.set32(CAP_MSIX + 8, BarLayout.MSIX_PBA | BarLayout.BAR);
    }

    private static void vendor(ConfigHeader header, int at, int length, int type, int offset, int bytes) {
        header.addCapability(at, VENDOR);
        header.set8(at + 2, length);
        header.set8(at + 3, type);
        header.set8(at + 4, BarLayout.BAR);
        header.set32(at + 8, offset);
        header.set32(at + 12, bytes);
    }

    /** The PCI class code QEMU gives each virtio device type (base class, subclass, interface). */
    public static int classCode(int deviceId) {
        switch (deviceId) {
            case 1:
                return 0x020000; // network, ethernet
            case 2:
                return 0x010000; // mass storage, SCSI (as QEMU's virtio-blk-pci)
            case 3:
                return 0x078000; // communication, other
            case 8:
                return 0x010000; // virtio-scsi: mass storage
            case 16:
                return 0x038000; // display, other
            case 18:
                return 0x098000; // input, other
            default:
                return 0x00ff00; // balloon, entropy and the rest: PCI_CLASS_OTHERS, as QEMU
        }
    }
}
