package org.jvirtio.transport.pci.internal;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.transport.core.FeatureWindows;
import org.jvirtio.transport.core.QueueSetup;

/**
 * The common configuration structure (virtio 1.2 section 4.1.4.3) at the start of BAR 0: decodes
 * register accesses into the {@link DeviceLifecycle} (features, status, queue set-up) and the
 * {@link InterruptRouter} (MSI-X vectors). Each field takes only its natural width (64-bit addresses as
 * two 32-bit halves, or whole); any other access is refused and counted.
 *
 * <pre>
 *  0x00 device_feature_select u32   0x04 device_feature u32 (ro)   0x08 driver_feature_select u32
 *  0x0c driver_feature u32          0x10 config_msix_vector u16    0x12 num_queues u16 (ro)
 *  0x14 device_status u8            0x15 config_generation u8 (ro) 0x16 queue_select u16
 *  0x18 queue_size u16              0x1a queue_msix_vector u16     0x1c queue_enable u16
 *  0x1e queue_notify_off u16 (ro)   0x20 queue_desc u64            0x28 queue_driver u64
 *  0x30 queue_device u64            0x38 queue_notif_config_data u16 (ro)   0x3a queue_reset u16
 * </pre>
 */
public final class CommonConfig {
    public static final int DEVICE_FEATURE_SELECT = 0x00;
    public static final int DEVICE_FEATURE = 0x04;
    public static final int DRIVER_FEATURE_SELECT = 0x08;
    public static final int DRIVER_FEATURE = 0x0c;
    public static final int CONFIG_MSIX_VECTOR = 0x10;
    public static final int NUM_QUEUES = 0x12;
    public static final int DEVICE_STATUS = 0x14;
    public static final int CONFIG_GENERATION = 0x15;
    public static final int QUEUE_SELECT = 0x16;
    public static final int QUEUE_SIZE = 0x18;
    public static final int QUEUE_MSIX_VECTOR = 0x1a;
    public static final int QUEUE_ENABLE = 0x1c;
    public static final int QUEUE_NOTIFY_OFF = 0x1e;
    public static final int QUEUE_DESC = 0x20;
    public static final int QUEUE_DRIVER = 0x28;
    public static final int QUEUE_DEVICE = 0x30;
    public static final int QUEUE_NOTIF_CONFIG_DATA = 0x38;
    public static final int QUEUE_RESET = 0x3a;

    private final DeviceLifecycle device;
    private final InterruptRouter interrupts;
    private final Faults faults;
    private int queueSelect;

    public CommonConfig(DeviceLifecycle device, InterruptRouter interrupts) {
        this.device = device;
        this.interrupts = interrupts;
        this.faults = device.faults();
    }

    /** The natural width of the field at {@code offset}, or 0 if no field starts there. */
    static int width(int offset) {
        if (offset < 0x10) {
            return (offset & 3) == 0 ? 4 : 0;
        }
        if (offset >= QUEUE_DESC && offset < QUEUE_NOTIF_CONFIG_DATA) {
            return (offset & 3) == 0 ? 4 : 0;
        }
        if (offset == DEVICE_STATUS || offset == CONFIG_GENERATION) {
            return 1;
        }
        if (offset < BarLayout.COMMON_LENGTH) {
            return (offset & 1) == 0 ? 2 : 0;
        }
        return 0;
    }

    private static boolean natural(int offset, int size) {
        int w = width(offset);
        if (w == size) {
            return true;
        }
        // a whole 64-bit queue address in one access
        return size == 8 && (offset == QUEUE_DESC || offset == QUEUE_DRIVER || offset == QUEUE_DEVICE);
    }

    public long read(int offset, int size) {
        if (offset >= BarLayout.COMMON_LENGTH) {
            return 0; // the rest of the page: no registers, reads as zero
        }
        if (!natural(offset, size)) {
            faults.record(Fault.BAD_ACCESS_SIZE, "common config read of " + size + " bytes at 0x" + Integer.toHexString(offset));
            return 0;
        }
        FeatureWindows f = device.features();
        QueueSetup q = device.queue(queueSelect);
        switch (offset) {
            case DEVICE_FEATURE_SELECT:
                return Integer.toUnsignedLong(f.deviceSelect());
            case DEVICE_FEATURE:
                return Integer.toUnsignedLong(f.deviceWindow());
            case DRIVER_FEATURE_SELECT:
                return Integer.toUnsignedLong(f.driverSelect());
            case DRIVER_FEATURE:
                return Integer.toUnsignedLong(f.driverWindow());
            case CONFIG_MSIX_VECTOR:
                return interrupts.configVector();
            case NUM_QUEUES:
                return device.queueCount();
            case DEVICE_STATUS:
                return device.readStatus();
            case CONFIG_GENERATION:
                return device.generation() & 0xFF;
            case QUEUE_SELECT:
                return queueSelect;
            case QUEUE_NOTIF_CONFIG_DATA:
            case QUEUE_RESET:
                return 0; // no notification config data; a queue reset completes before the write returns
            default:
                return q == null ? (offset == QUEUE_MSIX_VECTOR ? InterruptRouter.NO_VECTOR : 0) : readQueue(q, offset, size);
        }
    }

    private long readQueue(QueueSetup q, int offset, int size) {
        switch (offset) {
            case QUEUE_SIZE:
                return q.size();
            case QUEUE_MSIX_VECTOR:
                return interrupts.queueVector(q.index());
            case QUEUE_ENABLE:
                return q.enabled() ? 1 : 0;
            case QUEUE_NOTIFY_OFF:
                return q.index();
            default:
                long address = address(q, offset & ~7);
                if (size == 8) {
                    return address;
                }
                return (offset & 4) == 0 ? address & 0xFFFF_FFFFL : address >>> 32;
        }
    }

    private static long address(QueueSetup q, int field) {
        switch (field) {
            case QUEUE_DESC:
                return q.descriptorTable();
            case QUEUE_DRIVER:
                return q.driverArea();
            default:
                return q.deviceArea();
        }
    }

    public void write(int offset, int size, long value) {
        if (offset >= BarLayout.COMMON_LENGTH) {
            faults.record(Fault.READ_ONLY_WRITE, "common config write past the registers at 0x" + Integer.toHexString(offset));
            return;
        }
        if (!natural(offset, size)) {
            faults.record(Fault.BAD_ACCESS_SIZE, "common config write of " + size + " bytes at 0x" + Integer.toHexString(offset));
            return;
        }
        int v = (int) value;
        FeatureWindows f = device.features();
        switch (offset) {
            case DEVICE_FEATURE_SELECT:
                f.selectDevice(v);
                return;
            case DRIVER_FEATURE_SELECT:
                f.selectDriver(v);
                return;
            case DRIVER_FEATURE:
                if (!f.writeDriverWindow(v)) {
                    faults.record(Fault.FEATURES_LOCKED, "driver_feature 0x" + Integer.toHexString(v) + " after FEATURES_OK");
                }
                return;
            case CONFIG_MSIX_VECTOR:
                interrupts.setConfigVector(v & 0xFFFF);
                return;
            case DEVICE_STATUS:
                device.writeStatus(v & 0xFF);
                if ((v & 0xFF) == 0) {
                    interrupts.resetDevice();
                    queueSelect = 0;
                }
                return;
            case QUEUE_SELECT:
                queueSelect = v & 0xFFFF;
                return;
            case DEVICE_FEATURE:
            case NUM_QUEUES:
            case CONFIG_GENERATION:
            case QUEUE_NOTIFY_OFF:
            case QUEUE_NOTIF_CONFIG_DATA:
                faults.record(Fault.READ_ONLY_WRITE, "common config register 0x" + Integer.toHexString(offset));
                return;
            default:
                writeQueue(offset, size, value);
        }
    }

    private void writeQueue(int offset, int size, long value) {
        QueueSetup q = device.queue(queueSelect);
        if (q == null) {
            faults.record(Fault.NO_SUCH_QUEUE, "queue_select " + queueSelect + " of " + device.queueCount()
                    + ", register 0x" + Integer.toHexString(offset));
            return;
        }
        int v = (int) value;
        switch (offset) {
            case QUEUE_MSIX_VECTOR:
                interrupts.setQueueVector(q.index(), v & 0xFFFF);
                return;
            case QUEUE_ENABLE:
                if ((v & 0xFFFF) == 1) {
                    device.enableQueue(q.index());
                } else {
                    faults.record(Fault.QUEUE_ENABLE_INVALID, "queue " + q.index() + ": queue_enable " + (v & 0xFFFF));
                }
                return;
            case QUEUE_RESET:
                resetQueue(q, v & 0xFFFF);
                return;
            default:
                break;
        }
        if (q.enabled()) {
            faults.record(Fault.QUEUE_ENABLED, "queue " + q.index() + ": register 0x" + Integer.toHexString(offset)
                    + " written while enabled");
            return;
        }
        if (offset == QUEUE_SIZE) {
            String problem = q.sizeProblem(v & 0xFFFF, device.packed());
            if (problem != null) {
                faults.record(Fault.QUEUE_SIZE_INVALID, problem);
            } else {
                q.setSize(v & 0xFFFF);
            }
            return;
        }
        int field = offset & ~7;
        boolean high = (offset & 4) != 0;
        if (size == 8) {
            if (field == QUEUE_DESC) {
                q.setDescriptorTable(value);
            } else if (field == QUEUE_DRIVER) {
                q.setDriverArea(value);
            } else {
                q.setDeviceArea(value);
            }
        } else if (field == QUEUE_DESC) {
            if (high) {
                q.setDescriptorHigh(v);
            } else {
                q.setDescriptorLow(v);
            }
        } else if (field == QUEUE_DRIVER) {
            if (high) {
                q.setDriverHigh(v);
            } else {
                q.setDriverLow(v);
            }
        } else if (high) {
            q.setDeviceHigh(v);
        } else {
            q.setDeviceLow(v);
        }
    }

    private void resetQueue(QueueSetup q, int value) {
        if (!VirtioFeature.has(device.features().accepted(), VirtioFeature.RING_RESET) || !device.featuresOk()) {
            faults.record(Fault.QUEUE_RESET_INVALID, "queue " + q.index() + ": queue_reset without RING_RESET");
            return;
        }
        if (value != 1) {
            faults.record(Fault.QUEUE_RESET_INVALID, "queue " + q.index() + ": queue_reset " + value);
            return;
        }
        device.resetQueue(q.index());
        interrupts.setQueueVector(q.index(), InterruptRouter.NO_VECTOR);
    }

    /** Device or function reset: queue_select back to 0. */
    public void reset() {
        queueSelect = 0;
    }
}
