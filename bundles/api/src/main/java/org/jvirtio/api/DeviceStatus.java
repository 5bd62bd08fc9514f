package org.jvirtio.api;

/**
 * The device status field (virtio 1.2 section 2.1) and the one state machine every transport shares:
 * which status a driver may write after which.
 *
 * <pre>
 *   0 ──► ACKNOWLEDGE ──► +DRIVER ──► +FEATURES_OK ──► +DRIVER_OK
 *   any ──► 0 (reset)          any ──► +FAILED          device sets DEVICE_NEEDS_RESET
 * </pre>
 */
public final class DeviceStatus {
    public static final int ACKNOWLEDGE = 1;
    public static final int DRIVER = 2;
    public static final int DRIVER_OK = 4;
    public static final int FEATURES_OK = 8;
    public static final int DEVICE_NEEDS_RESET = 64;
    public static final int FAILED = 128;

    /** The bits a driver sets in order; each one requires all before it. */
    private static final int[] ORDER = {ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK};

    private DeviceStatus() {
    }

    /**
     * Whether a driver may write {@code next} when the status is {@code current}: writing 0 resets,
     * FAILED may be added at any time, bits are never cleared except by reset, and each step of
     * ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK needs all steps before it.
     * DEVICE_NEEDS_RESET belongs to the device; the driver's copy of it is ignored.
     */
    public static boolean isValidTransition(int current, int next) {
        int cur = current & 0xff & ~DEVICE_NEEDS_RESET;
        int nxt = next & 0xff & ~DEVICE_NEEDS_RESET;
        if (nxt == 0) {
            return true;
        }
        if ((nxt & ~(ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK | FAILED)) != 0) {
            return false;
        }
        if ((cur & ~nxt) != 0) {
            return false;
        }
        int required = 0;
        for (int step : ORDER) {
            if ((nxt & step) != 0 && (nxt & required) != required) {
                return false;
            }
            required |= step;
        }
        return true;
    }

    /** Human-readable names of the set bits, for logs and the shell. */
    public static String describe(int status) {
        if (status == 0) {
            return "RESET";
        }
        StringBuilder sb = new StringBuilder();
        append(sb, status, ACKNOWLEDGE, "ACKNOWLEDGE");
        append(sb, status, DRIVER, "DRIVER");
        append(sb, status, FEATURES_OK, "FEATURES_OK");
        append(sb, status, DRIVER_OK, "DRIVER_OK");
        append(sb, status, DEVICE_NEEDS_RESET, "DEVICE_NEEDS_RESET");
        append(sb, status, FAILED, "FAILED");
        return sb.toString();
    }

    private static void append(StringBuilder sb, int status, int bit, String name) {
        if ((status & bit) != 0) {
            if (sb.length() > 0) {
                sb.append('|');
            }
            sb.append(name);
        }
    }
}
