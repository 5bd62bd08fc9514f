package org.jvirtio.transport.pci.internal;

/**
 * Where each virtio structure lives in BAR 0, the function's one 32-bit memory BAR. Every structure
 * gets its own 4 KiB page, as QEMU lays them out, so a VMM could map each with its own protection.
 *
 * <pre>
 *  0x0000  common configuration   (virtio_pci_common_cfg, 0x3c bytes used)
 *  0x1000  ISR status             (1 byte, read clears)
 *  0x2000  device configuration   (the device's config space)
 *  0x3000  notifications          (queue i at i * NOTIFY_OFF_MULTIPLIER)
 *  0x4000  MSI-X table            (16 bytes per vector)
 *  0x5000  MSI-X PBA              (one bit per vector, in 64-bit words)
 *  0x8000  end (BAR size, a power of two)
 * </pre>
 */
public final class BarLayout {
    public static final int BAR = 0;
    public static final int REGION = 0x1000;
    public static final int COMMON = 0x0000;
    /** Bytes of common configuration with queue_reset (virtio 1.2 virtio_pci_modern_common_cfg). */
    public static final int COMMON_LENGTH = 0x3c;
    public static final int ISR = 0x1000;
    public static final int DEVICE = 0x2000;
    public static final int NOTIFY = 0x3000;
    public static final int MSIX_TABLE = 0x4000;
    public static final int MSIX_PBA = 0x5000;
    public static final int SIZE = 0x8000;
    /** Each queue has its own 4-byte doorbell: queue_notify_off = queue index. */
    public static final int NOTIFY_OFF_MULTIPLIER = 4;
    /** Queues whose doorbells fit the notify page. */
    public static final int MAX_QUEUES = REGION / NOTIFY_OFF_MULTIPLIER;
    /** MSI-X vectors whose table entries fit the table page. */
    public static final int MAX_VECTORS = REGION / MsixTable.ENTRY_BYTES;

    private BarLayout() {
    }
}
