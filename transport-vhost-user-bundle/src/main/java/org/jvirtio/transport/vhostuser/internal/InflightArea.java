package org.jvirtio.transport.vhostuser.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.jvirtio.nativeio.MappedMemory;

/**
 * The shared in-flight tracking buffer of INFLIGHT_SHMFD, split-ring layout (vhost-user.rst
 * "Inflight I/O tracking"): one region per queue, each {@link #queueRegionSize} bytes.
 *
 * <pre>
 * QueueRegionSplit                       DescStateSplit (16 bytes, one per descriptor)
 *  0  u64 features (0)                    0  u8  inflight
 *  8  u16 version (1)                     1  u8  padding[5]
 * 10  u16 desc_num                        6  u16 next      (last-batch list)
 * 12  u16 last_batch_head                 8  u64 counter   (order of fetching)
 * 14  u16 used_idx
 * 16  DescStateSplit desc[desc_num]
 * </pre>
 *
 * The buffer lives in a memfd the front end keeps across back-end restarts; plain stores suffice,
 * since it is read only after this side has gone away or stopped the queue.
 */
public final class InflightArea implements AutoCloseable {
    static final int HEADER = 16;
    static final int DESC_STATE = 16;
    static final int ALIGN = 64;
    static final int VERSION_OFFSET = 8;
    static final int DESC_NUM_OFFSET = 10;
    static final int LAST_BATCH_HEAD_OFFSET = 12;
    static final int USED_IDX_OFFSET = 14;

    private final MappedMemory mapping;
    private final int queueCount;
    private final int queueSize;

    public InflightArea(MappedMemory mapping, int queueCount, int queueSize) {
        this.mapping = mapping;
        this.queueCount = queueCount;
        this.queueSize = queueSize;
    }

    /** Bytes of one queue's region, 64-byte aligned. */
    public static long queueRegionSize(int queueSize) {
        long bytes = HEADER + (long) DESC_STATE * queueSize;
        return (bytes + ALIGN - 1) & -ALIGN;
    }

    public static long totalSize(int queueCount, int queueSize) {
        return queueRegionSize(queueSize) * queueCount;
    }

    public int queueCount() {
        return queueCount;
    }

    public int queueSize() {
        return queueSize;
    }

    /** Writes version and desc_num into every queue region of a fresh (zeroed) buffer. */
    public void initialize() {
        for (int q = 0; q < queueCount; q++) {
            ByteBuffer region = region(q);
            region.putShort(VERSION_OFFSET, (short) 1);
            region.putShort(DESC_NUM_OFFSET, (short) queueSize);
        }
    }

    /** A little-endian view of queue {@code index}'s region. */
    ByteBuffer region(int index) {
        long size = queueRegionSize(queueSize);
        return mapping.slice(index * size, (int) size).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void close() {
        mapping.close();
    }
}
