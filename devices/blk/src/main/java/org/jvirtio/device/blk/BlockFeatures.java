package org.jvirtio.device.blk;

/** virtio-blk feature bits (virtio 1.2 section 5.2.3), as bit numbers. */
public final class BlockFeatures {
    /** size_max: the largest single data segment. */
    public static final int SIZE_MAX = 1;
    /** seg_max: the most data segments per request. */
    public static final int SEG_MAX = 2;
    /** geometry (legacy; offered by nobody here, the field reads zero). */
    public static final int GEOMETRY = 4;
    /** The device is read-only: writes fail with IOERR. */
    public static final int RO = 5;
    /** blk_size: the logical block size. */
    public static final int BLK_SIZE = 6;
    /** The FLUSH command; without it (negotiated) every write is made stable before it completes. */
    public static final int FLUSH = 9;
    /** The topology fields. */
    public static final int TOPOLOGY = 10;
    /** The writeback field is writable: the driver picks writeback or write-through. */
    public static final int CONFIG_WCE = 11;
    /** num_queues request queues. */
    public static final int MQ = 12;
    /** The DISCARD command and its limits. */
    public static final int DISCARD = 13;
    /** The WRITE_ZEROES command and its limits. */
    public static final int WRITE_ZEROES = 14;

    private BlockFeatures() {
    }
}
