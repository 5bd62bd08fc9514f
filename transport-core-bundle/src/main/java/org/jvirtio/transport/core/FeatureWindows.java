package org.jvirtio.transport.core;

import org.jvirtio.api.VirtioFeature;

/**
 * Feature negotiation through 32-bit windows, as virtio-pci's common configuration and virtio-mmio's
 * registers both expose it: the driver selects a window of the device's features and reads it, selects
 * a window of its own and writes what it accepts, and the set is fixed ({@link #lock()}) when
 * FEATURES_OK is accepted. No register offsets here; not thread-safe (the transport's register thread).
 */
public final class FeatureWindows {
    private final long offered;
    private int deviceSelect;
    private int driverSelect;
    private long accepted;
    private boolean locked;

    /** @param offered every feature the transport offers for this device (already masked by the transport) */
    public FeatureWindows(long offered) {
        this.offered = offered;
    }

    public long offered() {
        return offered;
    }

    /** What the driver wrote so far (possibly bits never offered: checked by {@link #problem()}). */
    public long accepted() {
        return accepted;
    }

    /** The negotiated set: what the driver accepted once {@link #isLocked() locked}, else 0. */
    public long negotiated() {
        return locked ? accepted : 0;
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

    /**
     * Stores the driver's bits in the selected window; a window past 1 names features no device here
     * offers, so it has no bits to hold them.
     *
     * @return false, changing nothing, once the set is locked by FEATURES_OK
     */
    public boolean writeDriverWindow(int bits) {
        if (locked) {
            return false;
        }
        if (driverSelect == 0) {
            accepted = (accepted & 0xFFFF_FFFF_0000_0000L) | Integer.toUnsignedLong(bits);
        } else if (driverSelect == 1) {
            accepted = (accepted & 0xFFFF_FFFFL) | ((long) bits << 32);
        }
        return true;
    }

    /**
     * Why the accepted features cannot be used (the device then leaves FEATURES_OK clear), or null if
     * they can: every bit must have been offered and, the transports being modern only, VERSION_1 set.
     */
    public String problem() {
        long unoffered = accepted & ~offered;
        if (unoffered != 0) {
            return "driver accepted features never offered: 0x" + Long.toHexString(unoffered);
        }
        if (!VirtioFeature.has(accepted, VirtioFeature.VERSION_1)) {
            return "driver did not accept VERSION_1 (features 0x" + Long.toHexString(accepted)
                    + "; legacy drivers are not served)";
        }
        return null;
    }

    /** FEATURES_OK accepted: the driver's set is final until {@link #reset()}. */
    public void lock() {
        locked = true;
    }

    public boolean isLocked() {
        return locked;
    }

    /** Device reset: windows 0, nothing accepted, unlocked. */
    public void reset() {
        deviceSelect = 0;
        driverSelect = 0;
        accepted = 0;
        locked = false;
    }

    private static int window(long features, int select) {
        if (select == 0) {
            return (int) features;
        }
        return select == 1 ? (int) (features >>> 32) : 0;
    }
}
