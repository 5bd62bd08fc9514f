package org.jvirtio.transport.pci.internal;

/**
 * The notification structure (virtio 1.2 section 4.1.4.4): queue {@code i}'s doorbell at
 * {@code i * NOTIFY_OFF_MULTIPLIER} (its queue_notify_off is {@code i}). A driver writes the queue index
 * there with a 16-bit store (32-bit also taken); the address alone names the queue. A write only hands
 * the kick to the queue's worker: the VMM's thread returns at once. Reads return zero.
 */
public final class NotifyArea {
    private final DeviceLifecycle device;
    private final Faults faults;

    public NotifyArea(DeviceLifecycle device) {
        this.device = device;
        this.faults = device.faults();
    }

    public void write(int offset, int size) {
        if (offset % BarLayout.NOTIFY_OFF_MULTIPLIER != 0 || (size != 2 && size != 4)) {
            faults.record(Fault.BAD_ACCESS_SIZE, "notify write of " + size + " bytes at +0x" + Integer.toHexString(offset));
            return;
        }
        device.kick(offset / BarLayout.NOTIFY_OFF_MULTIPLIER);
    }
}
