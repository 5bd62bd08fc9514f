package org.jvirtio.transport.pci.internal;

import org.jvirtio.api.VirtioFeature;

/**
 * Feature negotiation through 32-bit windows, as virtio-pci's common configuration and virtio-mmio's
 * registers both expose it: the driver selects a window, reads what the device offers there, selects a
 * window of its own and writes what it accepts. Transport-neutral; driven from one thread.
 */
public final class FeatureWindows {
    private final long offered;
    private int deviceSelect;
    private int driverSelect;
    private long accepted;

    /** @param offered every feature the transport offers for this device (already masked by the transport) */
    public FeatureWindows(long offered) {
        this.offered = offered;
    }

    public long offered() {
        return offered;
    }

    /** What the driver wrote so far (possibly bits never offered: checked at FEATURES_OK). */
    public long accepted() {
        return accepted;
    }

    public int deviceSelect() {
        return deviceSelect;
    }

    public void selectDevice(int window) {
        deviceSelect = window;
    }

    /** The offered bits in the selected window; windows past 1 read as zero. */
    public int deviceWindow() {
        return window(offered, deviceSelect);
    }

    public int driverSelect() {
        return driverSelect;
    }

    public void selectDriver(int window) {
        driverSelect = window;
    }

    public int driverWindow() {
        return window(accepted, driverSelect);
    }

    /** Stores the driver's bits in the selected window; a window past 1 has no bits to hold them. */
    public void writeDriverWindow(int bits) {
        if (driverSelect == 0) {
            accepted = (accepted & 0xFFFF_FFFF_0000_0000L) | Integer.toUnsignedLong(bits);
        } else if (driverSelect == 1) {
            accepted = (accepted & 0xFFFF_FFFFL) | ((long) bits << 32);
        }
    }

    /**
     * Why the accepted features cannot be used (the device then leaves FEATURES_OK clear), or null if
     * they can: every bit must have been offered, and a modern transport needs VERSION_1.
     */
    public String problem() {
        long unoffered = accepted & ~offered;
        if (unoffered != 0) {
            return "driver accepted features never offered: 0x" + Long.toHexString(unoffered);
        }
        if (!VirtioFeature.has(accepted, VirtioFeature.VERSION_1)) {
            return "driver did not accept VERSION_1 (features 0x" + Long.toHexString(accepted) + ")";
        }
        return null;
    }

    public void reset() {
        deviceSelect = 0;
        driverSelect = 0;
        accepted = 0;
    }

    private static int window(long features, int select) {
        if (select == 0) {
            return (int) features;
        }
        return select == 1 ? (int) (features >>> 32) : 0;
    }
}
