package org.jvirtio.transport.pci.internal;

import java.time.Duration;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.transport.core.QueueService;
import org.jvirtio.transport.pci.proxy.PciInterrupts;

/**
 * A virtio-pci modern function's registers: configuration space (with the PCI_CFG window) and BAR 0,
 * decoded into the structures of {@link BarLayout}. Every access is checked here: an access outside
 * the space or of a size the register does not take is answered (all ones outside, zero for a refused
 * register read) or ignored, counted and logged; nothing throws.
 */
public final class PciRegisters {
    public static final int VENDOR = 0x1af4;
    public static final int DEVICE_ID_BASE = 0x1040;
    public static final int REVISION = 1;
    /** QEMU's subsystem id for its own devices (PCI_SUBDEVICE_ID_QEMU), under the same vendor. */
    public static final int SUBSYSTEM_ID = 0x1100;
    /** The CardBus CIS pointer of a type 0 header: read-only, zero here. */
    private static final int CARDBUS_CIS = 0x28;
    /** Features this transport cannot honour, never offered whatever the device says. */
    static final long UNSUPPORTED = VirtioFeature.of(VirtioFeature.ACCESS_PLATFORM, VirtioFeature.SR_IOV,
            VirtioFeature.NOTIFICATION_DATA, VirtioFeature.NOTIF_CONFIG_DATA);

    private final ConfigHeader header;
    private final MsixTable msix;
    private final InterruptRouter interrupts;
    private final DeviceLifecycle lifecycle;
    private final CommonConfig common;
    private final NotifyArea notify;
    private final PciCfgWindow window;
    private final Faults faults;
    private final int configSize;
    private final byte[] scratch = new byte[8];

    public PciRegisters(VirtioDevice device, GuestMemory memory, PciInterrupts out, String name) {
        this(device, memory, out, name, QueueService.DEFAULT_HOLD_BOUND);
    }

    /** @param holdBound how long a register write waits for the device to let go of a queue */
    public PciRegisters(VirtioDevice device, GuestMemory memory, PciInterrupts out, String name, Duration holdBound) {
        int queues = device.queueCount();
        if (queues > BarLayout.MAX_QUEUES) {
            throw new IllegalArgumentException(name + ": " + queues + " queues, at most " + BarLayout.MAX_QUEUES);
        }
        this.faults = new Faults(name);
        this.configSize = Math.min(device.configSize(), BarLayout.REGION);
        this.header = new ConfigHeader(VENDOR, DEVICE_ID_BASE + device.deviceId(), REVISION,
                CapabilityLayout.classCode(device.deviceId()), VENDOR, SUBSYSTEM_ID, BarLayout.SIZE);
        this.msix = new MsixTable(Math.min(queues + 1, BarLayout.MAX_VECTORS));
        CapabilityLayout.build(header, queues, configSize, msix.vectors());
        header.seal();
        this.interrupts = new InterruptRouter(header, msix, CapabilityLayout.CAP_MSIX, queues, out);
        this.lifecycle = new DeviceLifecycle(name, device, device.offeredFeatures() & ~UNSUPPORTED, memory, faults,
                interrupts, holdBound);
        this.common = new CommonConfig(lifecycle, interrupts);
        this.notify = new NotifyArea(lifecycle);
        this.window = new PciCfgWindow(interrupts, faults, new PciCfgWindow.Bar() {
            @Override
            public long read(int offset, int size) {
                return readBar(BarLayout.BAR, offset, size);
            }

            @Override
            public void write(int offset, int size, long value) {
                writeBar(BarLayout.BAR, offset, size, value);
            }
        });
    }

    public Faults faults() {
        return faults;
    }

    public DeviceLifecycle lifecycle() {
        return lifecycle;
    }

    public InterruptRouter interrupts() {
        return interrupts;
    }

    // ------------------------------------------------------------------ configuration space

    public int readConfig(int offset, int size) {
        if (!ConfigHeader.validAccess(offset, size)) {
            faults.record(Fault.CONFIG_OUT_OF_RANGE, "read of " + size + " bytes at 0x" + Integer.toHexString(offset));
            return allOnes(size);
        }
        if (PciCfgWindow.touchesData(offset, size)) {
            window.beforeRead();
        }
        return interrupts.readConfig(offset, size);
    }

    public void writeConfig(int offset, int size, int value) {
        if (!ConfigHeader.validAccess(offset, size)) {
            faults.record(Fault.CONFIG_OUT_OF_RANGE, "write of " + size + " bytes at 0x" + Integer.toHexString(offset));
            return;
        }
        boolean written = interrupts.writeConfig(offset, size, value);
        if (!written && !sizingProbe(offset)) {
            faults.record(Fault.READ_ONLY_WRITE, "configuration space 0x" + Integer.toHexString(offset));
        }
        if (PciCfgWindow.touchesData(offset, size)) {
            window.afterWrite();
        }
    }

    /**
     * BARs 1-5 and the ROM BAR: a driver writes all ones there to learn they do not exist. And the
     * CardBus CIS pointer (0x28): QEMU's {@code x-pci-proxy-dev} sizes seven "BARs" from 0x10 on every
     * attach (its loop over PCI_NUM_REGIONS counts the ROM but steps by four), so the seventh lands
     * at 0x28 and writes all ones and then what it read there; an honest peer's probe, not a fault.
     */
    private static boolean sizingProbe(int offset) {
        return offset >= ConfigHeader.BAR0 && offset <= CARDBUS_CIS || offset == 0x30;
    }

    // ------------------------------------------------------------------ BAR 0

    public static boolean validBarAccess(int index, int offset, int size) {
        return index == BarLayout.BAR && (size == 1 || size == 2 || size == 4 || size == 8) && offset >= 0
                && offset <= BarLayout.SIZE - size;
    }

    public long readBar(int index, int offset, int size) {
        if (!validBarAccess(index, offset, size)) {
            faults.record(Fault.BAR_OUT_OF_RANGE, "read of " + size + " bytes at BAR " + index + " + 0x" + Integer.toHexString(offset));
            return size >= 8 ? -1L : (1L << (8 * Math.max(size, 0))) - 1;
        }
        int region = offset & ~(BarLayout.REGION - 1);
        int at = offset - region;
        switch (region) {
            case BarLayout.COMMON:
                return common.read(at, size);
            case BarLayout.ISR:
                if (at != 0 || size == 8) {
                    faults.record(Fault.BAD_ACCESS_SIZE, "ISR read of " + size + " bytes at +" + at);
                    return 0;
                }
                return interrupts.readIsr();
            case BarLayout.DEVICE:
                return readDeviceConfig(at, size);
            case BarLayout.MSIX_TABLE:
                return readMsix(at, size, msix.tableBytes(), false);
            case BarLayout.MSIX_PBA:
                return readMsix(at, size, msix.pbaBytes(), true);
            default:
                return 0; // notify area and unused pages read as zero
        }
    }

    public void writeBar(int index, int offset, int size, long value) {
        if (!validBarAccess(index, offset, size)) {
            faults.record(Fault.BAR_OUT_OF_RANGE, "write of " + size + " bytes at BAR " + index + " + 0x" + Integer.toHexString(offset));
            return;
        }
        int region = offset & ~(BarLayout.REGION - 1);
        int at = offset - region;
        switch (region) {
            case BarLayout.COMMON:
                common.write(at, size, value);
                return;
            case BarLayout.NOTIFY:
                notify.write(at, size);
                return;
            case BarLayout.DEVICE:
                writeDeviceConfig(at, size, value);
                return;
            case BarLayout.MSIX_TABLE:
                if (MsixTable.validAccess(at, size, msix.tableBytes())) {
                    interrupts.writeTable(at, size, value);
                } else {
                    faults.record(at < msix.tableBytes() ? Fault.MSIX_BAD_ACCESS : Fault.READ_ONLY_WRITE,
                            "MSI-X table write of " + size + " bytes at +0x" + Integer.toHexString(at));
                }
                return;
            default:
                faults.record(Fault.READ_ONLY_WRITE, "BAR 0 + 0x" + Integer.toHexString(offset));
        }
    }

    private long readMsix(int at, int size, int bytes, boolean pba) {
        if (!MsixTable.validAccess(at, size, bytes)) {
            if (at < bytes) {
                faults.record(Fault.MSIX_BAD_ACCESS, (pba ? "PBA" : "table") + " read of " + size + " bytes at +0x"
                        + Integer.toHexString(at));
            }
            return 0;
        }
        return pba ? interrupts.readPba(at, size) : interrupts.readTable(at, size);
    }

    private long readDeviceConfig(int at, int size) {
        if (at >= configSize) {
            return 0;
        }
        lifecycle.readConfig(at, scratch, size);
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = (v << 8) | (scratch[i] & 0xff);
        }
        return v;
    }

    private void writeDeviceConfig(int at, int size, long value) {
        if (at >= configSize) {
            faults.record(Fault.READ_ONLY_WRITE, "device configuration +0x" + Integer.toHexString(at) + " past its "
                    + configSize + " bytes");
            return;
        }
        for (int i = 0; i < size; i++) {
            scratch[i] = (byte) (value >>> (8 * i));
        }
        lifecycle.writeConfig(at, scratch, size);
    }

    // ------------------------------------------------------------------ reset

    /** The VMM reset the function: the device, then configuration space and MSI-X as built. */
    public void reset() {
        lifecycle.reset();
        common.reset();
        interrupts.resetFunction();
    }

    private static int allOnes(int size) {
        return size >= 4 || size <= 0 ? -1 : (1 << (8 * size)) - 1;
    }
}
