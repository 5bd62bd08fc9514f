package org.jvirtio.transport.mmio;

/**
 * The virtio-mmio version 2 register layout (virtio 1.2 section 4.2.2), as offsets inside one device's
 * window. Control registers are 32 bits wide and 32-bit aligned; the device configuration space starts
 * at {@link #CONFIG}.
 *
 * <pre>
 *  0x000 MagicValue        R    0x74726976 ("virt")     0x060 InterruptStatus  R
 *  0x004 Version           R    2                       0x064 InterruptACK     W
 *  0x008 DeviceID          R                            0x070 Status           RW
 *  0x00c VendorID          R                            0x080 QueueDescLow     W   0x084 High  W
 *  0x010 DeviceFeatures    R                            0x090 QueueDriverLow   W   0x094 High  W
 *  0x014 DeviceFeaturesSel W                            0x0a0 QueueDeviceLow   W   0x0a4 High  W
 *  0x020 DriverFeatures    W                            0x0ac SHMSel           W
 *  0x024 DriverFeaturesSel W                            0x0b0 SHMLenLow        R   0x0b4 High  R
 *  0x030 QueueSel          W                            0x0b8 SHMBaseLow       R   0x0bc High  R
 *  0x034 QueueNumMax       R                            0x0c0 QueueReset       RW
 *  0x038 QueueNum          W                            0x0fc ConfigGeneration R
 *  0x044 QueueReady        RW                           0x100 device configuration space
 *  0x050 QueueNotify       W
 * </pre>
 */
public final class MmioRegister {
    public static final int MAGIC_VALUE = 0x000;
    public static final int VERSION = 0x004;
    public static final int DEVICE_ID = 0x008;
    public static final int VENDOR_ID = 0x00c;
    public static final int DEVICE_FEATURES = 0x010;
    public static final int DEVICE_FEATURES_SEL = 0x014;
    public static final int DRIVER_FEATURES = 0x020;
    public static final int DRIVER_FEATURES_SEL = 0x024;
    public static final int QUEUE_SEL = 0x030;
    public static final int QUEUE_NUM_MAX = 0x034;
    public static final int QUEUE_NUM = 0x038;
    public static final int QUEUE_READY = 0x044;
    public static final int QUEUE_NOTIFY = 0x050;
    public static final int INTERRUPT_STATUS = 0x060;
    public static final int INTERRUPT_ACK = 0x064;
    public static final int STATUS = 0x070;
    public static final int QUEUE_DESC_LOW = 0x080;
    public static final int QUEUE_DESC_HIGH = 0x084;
    public static final int QUEUE_DRIVER_LOW = 0x090;
    public static final int QUEUE_DRIVER_HIGH = 0x094;
    public static final int QUEUE_DEVICE_LOW = 0x0a0;
    public static final int QUEUE_DEVICE_HIGH = 0x0a4;
    public static final int SHM_SEL = 0x0ac;
    public static final int SHM_LEN_LOW = 0x0b0;
    public static final int SHM_LEN_HIGH = 0x0b4;
    public static final int SHM_BASE_LOW = 0x0b8;
    public static final int SHM_BASE_HIGH = 0x0bc;
    public static final int QUEUE_RESET = 0x0c0;
    public static final int CONFIG_GENERATION = 0x0fc;
    /** First byte of the device configuration space. */
    public static final int CONFIG = 0x100;

    /** Bytes of one device's window: registers and configuration space (the size device trees and ACPI declare). */
    public static final int WINDOW_SIZE = 0x200;

    /** What {@link #MAGIC_VALUE} reads: "virt" in little-endian. */
    public static final int MAGIC = 0x74726976;
    /** The only version this model speaks (1 was the legacy interface). */
    public static final int VERSION_2 = 2;
    /** What {@link #VENDOR_ID} reads: "JVRT" in little-endian. */
    public static final int JVIRTIO_VENDOR = 0x5452564a;

    /** {@link #INTERRUPT_STATUS} bit: the device used a buffer on a queue. */
    public static final int INT_USED_BUFFER = 1;
    /** {@link #INTERRUPT_STATUS} bit: the device configuration changed (or the device needs a reset). */
    public static final int INT_CONFIG_CHANGE = 2;

    private MmioRegister() {
    }

    /** The register's name in the specification, for logs; {@code "config+N"} past {@link #CONFIG}. */
    public static String name(int offset) {
        if (offset >= CONFIG) {
            return "config+" + (offset - CONFIG);
        }
        switch (offset) {
            case MAGIC_VALUE: return "MagicValue";
            case VERSION: return "Version";
            case DEVICE_ID: return "DeviceID";
            case VENDOR_ID: return "VendorID";
            case DEVICE_FEATURES: return "DeviceFeatures";
            case DEVICE_FEATURES_SEL: return "DeviceFeaturesSel";
            case DRIVER_FEATURES: return "DriverFeatures";
            case DRIVER_FEATURES_SEL: return "DriverFeaturesSel";
            case QUEUE_SEL: return "QueueSel";
            case QUEUE_NUM_MAX: return "QueueNumMax";
            case QUEUE_NUM: return "QueueNum";
            case QUEUE_READY: return "QueueReady";
            case QUEUE_NOTIFY: return "QueueNotify";
            case INTERRUPT_STATUS: return "InterruptStatus";
            case INTERRUPT_ACK: return "InterruptACK";
            case STATUS: return "Status";
            case QUEUE_DESC_LOW: return "QueueDescLow";
            case QUEUE_DESC_HIGH: return "QueueDescHigh";
            case QUEUE_DRIVER_LOW: return "QueueDriverLow";
            case QUEUE_DRIVER_HIGH: return "QueueDriverHigh";
            case QUEUE_DEVICE_LOW: return "QueueDeviceLow";
            case QUEUE_DEVICE_HIGH: return "QueueDeviceHigh";
            case SHM_SEL: return "SHMSel";
            case SHM_LEN_LOW: return "SHMLenLow";
            case SHM_LEN_HIGH: return "SHMLenHigh";
            case SHM_BASE_LOW: return "SHMBaseLow";
            case SHM_BASE_HIGH: return "SHMBaseHigh";
            case QUEUE_RESET: return "QueueReset";
            case CONFIG_GENERATION: return "ConfigGeneration";
            default: return "0x" + Integer.toHexString(offset);
        }
    }
}
