package org.jvirtio.vring;

/**
 * The set-up state of one virtqueue as a transport receives it: size and the three ring areas. Plain
 * state with setters that mirror the transports (32-bit halves for PCI and MMIO registers, whole
 * addresses for vhost-user); nothing here is checked until {@link Vrings} builds a queue from it.
 *
 * <p>Areas by ring format: split rings use descriptor table, available ring (driver area) and used
 * ring (device area); packed rings use the descriptor ring, driver event suppression and device
 * event suppression.
 */
public final class QueueConfig {
    private int size;
    private long descriptorTable;
    private long driverArea;
    private long deviceArea;

    public QueueConfig() {
    }

    public QueueConfig(int size, long descriptorTable, long driverArea, long deviceArea) {
        this.size = size;
        this.descriptorTable = descriptorTable;
        this.driverArea = driverArea;
        this.deviceArea = deviceArea;
    }

    public int size() {
        return size;
    }

    public QueueConfig setSize(int size) {
        this.size = size;
        return this;
    }

    public long descriptorTable() {
        return descriptorTable;
    }

    public QueueConfig setDescriptorTable(long address) {
        this.descriptorTable = address;
        return this;
    }

    public QueueConfig setDescriptorTableLow(int low) {
        return setDescriptorTable(withLow(descriptorTable, low));
    }

    public QueueConfig setDescriptorTableHigh(int high) {
        return setDescriptorTable(withHigh(descriptorTable, high));
    }

    public long driverArea() {
        return driverArea;
    }

    public QueueConfig setDriverArea(long address) {
        this.driverArea = address;
        return this;
    }

    public QueueConfig setDriverAreaLow(int low) {
        return setDriverArea(withLow(driverArea, low));
    }

    public QueueConfig setDriverAreaHigh(int high) {
        return setDriverArea(withHigh(driverArea, high));
    }

    public long deviceArea() {
        return deviceArea;
    }

    public QueueConfig setDeviceArea(long address) {
        this.deviceArea = address;
        return this;
    }

    public QueueConfig setDeviceAreaLow(int low) {
        return setDeviceArea(withLow(deviceArea, low));
    }

    public QueueConfig setDeviceAreaHigh(int high) {
        return setDeviceArea(withHigh(deviceArea, high));
    }

    /** Back to the state after a device reset: everything zero. */
    public void reset() {
        size = 0;
        descriptorTable = 0;
        driverArea = 0;
        deviceArea = 0;
    }

    public QueueConfig copy() {
        return new QueueConfig(size, descriptorTable, driverArea, deviceArea);
    }

    private static long withLow(long address, int low) {
        return (address & 0xFFFF_FFFF_0000_0000L) | Integer.toUnsignedLong(low);
    }

    private static long withHigh(long address, int high) {
        return (address & 0xFFFF_FFFFL) | ((long) high << 32);
    }

    @Override
    public String toString() {
        return "QueueConfig[size=" + size + ", desc=0x" + Long.toHexString(descriptorTable)
                + ", driver=0x" + Long.toHexString(driverArea) + ", device=0x" + Long.toHexString(deviceArea) + "]";
    }
}
