package org.jvirtio.transport.mmio.internal;

import org.jvirtio.api.VirtioFeature;

/**
 * Feature negotiation through 32-bit windows, as virtio-mmio and virtio-pci both do it: the driver
 * selects a word of the device's features and reads it, selects a word of its own and writes it, and
 * the set is fixed at FEATURES_OK. Transport-neutral: no register offsets here. Not thread-safe (the
 * transport's register lock).
 */
public final class FeatureNegotiation {
    private final long offered;
    private int deviceSelect;
    private int driverSelect;
    private long driver;
    private boolean locked;

    /** @param offered what the device offers, masked to what the transport can honour */
    public FeatureNegotiation(long offered) {
        this.offered = offered;
    }

    public long offered() {
        return offered;
    }

    public void selectDeviceWord(int select) {
        deviceSelect = select;
    }

    /** Bits {@code 32 * select} to {@code 32 * select + 31} of the offered features; 0 past bit 63. */
    public int deviceWord() {
        return word(offered, deviceSelect);
    }

    public void selectDriverWord(int select) {
        driverSelect = select;
    }

    /**
     * Sets the selected 32 bits of the driver's features.
     *
     * @return false, changing nothing, once the set is locked by FEATURES_OK
     */
    public boolean writeDriverWord(int value) {
        if (locked) {
            return false;
        }
        if (driverSelect == 0) {
            driver = (driver & 0xFFFF_FFFF_0000_0000L) | Integer.toUnsignedLong(value);
        } else if (driverSelect == 1) {
            driver = (driver & 0xFFFF_FFFFL) | ((long) value << 32);
        }
        // words past bit 63 name features no device here offers: nothing to keep
        return true;
    }

    /** What the driver wrote so far. */
    public long driverFeatures() {
        return driver;
    }

    /**
     * Why the driver's set cannot be accepted at FEATURES_OK, or null: it must be a subset of the offer
     * and, the transport being modern only, include VERSION_1.
     */
    public String refusal() {
        long unoffered = driver & ~offered;
        if (unoffered != 0) {
            return "driver accepted features never offered: 0x" + Long.toHexString(unoffered);
        }
        if (!VirtioFeature.has(driver, VirtioFeature.VERSION_1)) {
            return "driver did not accept VERSION_1 (legacy drivers are not served)";
        }
        return null;
    }

    /** FEATURES_OK accepted: the driver's set is final until reset. */
    public void lock() {
        locked = true;
    }

    public boolean isLocked() {
        return locked;
    }

    /** The negotiated set: what the driver accepted, meaningful once {@link #isLocked()}. */
    public long negotiated() {
        return locked ? driver : 0;
    }

    public void reset() {
        deviceSelect = 0;
        driverSelect = 0;
        driver = 0;
        locked = false;
    }

    private static int word(long features, int select) {
        if (select == 0) {
            return (int) features;
        }
        if (select == 1) {
            return (int) (features >>> 32);
        }
        return 0;
    }
}
