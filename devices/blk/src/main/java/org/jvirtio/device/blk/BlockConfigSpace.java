package org.jvirtio.device.blk;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The layout of {@code struct virtio_blk_config} (virtio 1.2 section 5.2.4) up to
 * {@code write_zeroes_may_unmap}; the secure-erase and zoned fields that follow are not offered and
 * read as zero.
 *
 * <pre>
 *  0 le64 capacity (512-byte sectors)        32 u8   writeback          (CONFIG_WCE, writable)
 *  8 le32 size_max              (SIZE_MAX)   33 u8   unused
 * 12 le32 seg_max               (SEG_MAX)    34 le16 num_queues         (MQ)
 * 16 le16 cylinders, u8 heads, u8 sectors    36 le32 max_discard_sectors  (DISCARD)
 * 20 le32 blk_size              (BLK_SIZE)   40 le32 max_discard_seg
 * 24 u8   physical_block_exp    (TOPOLOGY)   44 le32 discard_sector_alignment
 * 25 u8   alignment_offset                   48 le32 max_write_zeroes_sectors (WRITE_ZEROES)
 * 26 le16 min_io_size                        52 le32 max_write_zeroes_seg
 * 28 le32 opt_io_size                        56 u8   write_zeroes_may_unmap, 3 bytes unused
 * </pre>
 *
 * A field whose feature is not offered is left zero.
 */
public final class BlockConfigSpace {
    public static final int CAPACITY = 0;
    public static final int SIZE_MAX = 8;
    public static final int SEG_MAX = 12;
    public static final int GEOMETRY = 16;
    public static final int BLK_SIZE = 20;
    public static final int PHYSICAL_BLOCK_EXP = 24;
    public static final int ALIGNMENT_OFFSET = 25;
    public static final int MIN_IO_SIZE = 26;
    public static final int OPT_IO_SIZE = 28;
    public static final int WRITEBACK = 32;
    public static final int NUM_QUEUES = 34;
    public static final int MAX_DISCARD_SECTORS = 36;
    public static final int MAX_DISCARD_SEG = 40;
    public static final int DISCARD_SECTOR_ALIGNMENT = 44;
    public static final int MAX_WRITE_ZEROES_SECTORS = 48;
    public static final int MAX_WRITE_ZEROES_SEG = 52;
    public static final int WRITE_ZEROES_MAY_UNMAP = 56;
    /** Bytes served. */
    public static final int SIZE = 60;

    private BlockConfigSpace() {
    }

    /** The configuration space of a device with {@code offered} features (writeback initialised too). */
    static byte[] encode(long offered, long capacitySectors, int blockSize, BlockDeviceOptions o) {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(CAPACITY, capacitySectors);
        if (has(offered, BlockFeatures.SIZE_MAX)) {
            b.putInt(SIZE_MAX, o.sizeMax());
        }
        if (has(offered, BlockFeatures.SEG_MAX)) {
            b.putInt(SEG_MAX, o.segMax());
        }
        if (has(offered, BlockFeatures.BLK_SIZE)) {
            b.putInt(BLK_SIZE, blockSize);
        }
        if (has(offered, BlockFeatures.TOPOLOGY)) {
            b.put(PHYSICAL_BLOCK_EXP, (byte) o.physicalBlockExp());
            b.put(ALIGNMENT_OFFSET, (byte) o.alignmentOffset());
            b.putShort(MIN_IO_SIZE, (short) o.minIoSize());
            b.putInt(OPT_IO_SIZE, o.optIoSize());
        }
        b.put(WRITEBACK, initialWriteback(offered));
        if (has(offered, BlockFeatures.MQ)) {
            b.putShort(NUM_QUEUES, (short) o.queues());
        }
        if (has(offered, BlockFeatures.DISCARD)) {
            b.putInt(MAX_DISCARD_SECTORS, o.maxDiscardSectors());
            b.putInt(MAX_DISCARD_SEG, o.maxDiscardSegments());
            b.putInt(DISCARD_SECTOR_ALIGNMENT, Math.max(1, blockSize >> 9));
        }
        if (has(offered, BlockFeatures.WRITE_ZEROES)) {
            b.putInt(MAX_WRITE_ZEROES_SECTORS, o.maxWriteZeroesSectors());
            b.putInt(MAX_WRITE_ZEROES_SEG, o.maxWriteZeroesSegments());
            b.put(WRITE_ZEROES_MAY_UNMAP, (byte) (o.writeZeroesMayUnmap() ? 1 : 0));
        }
        return b.array();
    }

    /** Writeback (1) when the driver can flush, else write-through (0): what the field says after reset. */
    static byte initialWriteback(long offered) {
        return (byte) (has(offered, BlockFeatures.FLUSH) ? 1 : 0);
    }

    private static boolean has(long features, int bit) {
        return (features & (1L << bit)) != 0;
    }
}
