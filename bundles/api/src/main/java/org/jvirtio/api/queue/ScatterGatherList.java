package org.jvirtio.api.queue;

import java.util.Arrays;

/**
 * A reusable list of guest buffers for the driver side: device-readable entries first, then
 * device-writable ones. Adding never allocates once the list has grown to its working size.
 */
public final class ScatterGatherList {
    private long[] addresses;
    private int[] lengths;
    private int count;
    private int readable;

    public ScatterGatherList(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        addresses = new long[capacity];
        lengths = new int[capacity];
    }

    public ScatterGatherList clear() {
        count = 0;
        readable = 0;
        return this;
    }

    /** Appends a buffer the device reads; all readable buffers must come before writable ones. */
    public ScatterGatherList addReadable(long address, int length) {
        if (readable != count) {
            throw new IllegalStateException("readable buffer after a writable one");
        }
        append(address, length);
        readable++;
        return this;
    }

    /** Appends a buffer the device writes. */
    public ScatterGatherList addWritable(long address, int length) {
        append(address, length);
        return this;
    }

    private void append(long address, int length) {
        if (count == addresses.length) {
            addresses = Arrays.copyOf(addresses, count * 2);
            lengths = Arrays.copyOf(lengths, count * 2);
        }
        addresses[count] = address;
        lengths[count] = length;
        count++;
    }

    public int count() {
        return count;
    }

    public int readableCount() {
        return readable;
    }

    public long address(int i) {
        return addresses[check(i)];
    }

    public int length(int i) {
        return lengths[check(i)];
    }

    public boolean isWritable(int i) {
        return check(i) >= readable;
    }

    /** Total bytes of the writable buffers (unsigned lengths). */
    public long writableBytes() {
        long total = 0;
        for (int i = readable; i < count; i++) {
            total += Integer.toUnsignedLong(lengths[i]);
        }
        return total;
    }

    private int check(int i) {
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException(i);
        }
        return i;
    }
}
