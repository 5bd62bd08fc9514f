package org.jvirtio.transport.vhostuser.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.jvirtio.nativeio.MappedMemory;

/**
 * The shared in-flight tracking buffer of INFLIGHT_SHMFD (vhost-user.rst "Inflight I/O tracking"):
 * one region per queue, each {@link #queueRegionSize} bytes, laid out for split rings
 * ({@link SplitInflight}) or packed rings ({@link PackedInflight}). Both begin with
 *
 * <pre>
 *  0  u64 features (0)
 *  8  u16 version (1; 0 = never initialised)
 * 10  u16 desc_num (the queue size)
 * </pre>
 *
 * The buffer lives in a memfd the front end keeps across back-end restarts; plain stores suffice,
 * since it is read only after this side has gone away or stopped the queue. The front end can write
 * it too, so everything read back from it is checked.
 */
public final class InflightArea implements AutoCloseable {
    static final int ALIGN = 64;
    static final int VERSION_OFFSET = 8;
    static final int DESC_NUM_OFFSET = 10;

    private final MappedMemory mapping;
    private final int queueCount;
    private final int queueSize;
    private final boolean packed;

    public InflightArea(MappedMemory mapping, int queueCount, int queueSize, boolean packed) {
        this.mapping = mapping;
        this.queueCount = queueCount;
        this.queueSize = queueSize;
        this.packed = packed;
    }

    /** Bytes of one queue's region, 64-byte aligned. */
    public static long queueRegionSize(int queueSize, boolean packed) {
        long bytes = packed ? PackedInflight.regionBytes(queueSize) : SplitInflight.regionBytes(queueSize);
        return (bytes + ALIGN - 1) & -ALIGN;
    }

    public static long totalSize(int queueCount, int queueSize, boolean packed) {
        return queueRegionSize(queueSize, packed) * queueCount;
    }

    public int queueCount() {
        return queueCount;
    }

    public int queueSize() {
        return queueSize;
    }

    public boolean isPacked() {
        return packed;
    }

    /** Initialises every queue region of a fresh (zeroed) buffer. */
    public void initialize() {
        for (int q = 0; q < queueCount; q++) {
            ByteBuffer region = region(q);
            region.putShort(VERSION_OFFSET, (short) 1);
            region.putShort(DESC_NUM_OFFSET, (short) queueSize);
            if (packed) {
                PackedInflight.initialize(region, queueSize);
            }
        }
    }

    /** Whether a region was written for a queue of this size (version 1, desc_num == size). */
    static boolean fits(ByteBuffer region, int size) {
        return region.getShort(VERSION_OFFSET) == 1 && (region.getShort(DESC_NUM_OFFSET) & 0xFFFF) == size;
    }

    /**
     * The fetch counter to continue with: one past the largest (unsigned, as recovery orders them)
     * of the {@code size} descriptor states of {@code stride} bytes from {@code header}.
     */
    static long nextCounter(ByteBuffer region, int header, int stride, int counterOffset, int size) {
        long max = 0;
        for (int i = 0; i < size; i++) {
            long counter = region.getLong(header + i * stride + counterOffset);
            if (Long.compareUnsigned(counter, max) > 0) {
                max = counter;
            }
        }
        return max + 1;
    }

    /** A little-endian view of queue {@code index}'s region. */
    ByteBuffer region(int index) {
        long size = queueRegionSize(queueSize, packed);
        return mapping.slice(index * size, (int) size).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void close() {
        mapping.close();
    }
}
