package org.jvirtio.device.blk.request;

/**
 * The wire format of a virtio-blk request (virtio 1.2 section 5.2.6):
 *
 * <pre>
 *   device-readable                                   device-writable
 *   ┌──────────┬──────────┬────────────┬─────────┐    ┌─────────────┬────────┐
 *   │ type u32 │ rsvd u32 │ sector u64 │ data... │    │ data...     │ status │
 *   └──────────┴──────────┴────────────┴─────────┘    └─────────────┴────────┘
 *    0          4          8           16              (IN, GET_ID)   last byte
 *    (OUT, DISCARD, WRITE_ZEROES)
 * </pre>
 *
 * The header and the data may be split across descriptors or share one; only byte positions in the
 * readable and the writable stream matter. Discard and write-zeroes data is an array of segments:
 * {@code sector u64, num_sectors u32, flags u32}.
 */
public final class BlockProtocol {
    public static final int T_IN = 0;
    public static final int T_OUT = 1;
    public static final int T_FLUSH = 4;
    public static final int T_GET_ID = 8;
    public static final int T_DISCARD = 11;
    public static final int T_WRITE_ZEROES = 13;

    public static final byte S_OK = 0;
    public static final byte S_IOERR = 1;
    public static final byte S_UNSUPP = 2;

    public static final int HEADER_BYTES = 16;
    public static final int SECTOR_SHIFT = 9;
    public static final int SECTOR_BYTES = 1 << SECTOR_SHIFT;
    public static final int SEGMENT_BYTES = 16;
    /** The id string GET_ID returns: 20 bytes, zero-padded, not terminated when all 20 are used. */
    public static final int ID_BYTES = 20;

    /** Segment flag: write-zeroes may deallocate; on a discard segment it is unsupported. */
    public static final int SEGMENT_F_UNMAP = 1;

    private BlockProtocol() {
    }
}
