package org.jvirtio.device.blk.request;

/**
 * What a request is checked against: the disk's capacity and the limits and features in force for this
 * activation (negotiated, not merely offered). Immutable; one per activation.
 *
 * @param capacitySectors       512-byte sectors of the disk
 * @param readOnly              whether VIRTIO_BLK_F_RO was offered: writes fail with IOERR
 * @param flush                 whether VIRTIO_BLK_F_FLUSH was negotiated
 * @param discard               whether VIRTIO_BLK_F_DISCARD was negotiated
 * @param writeZeroes           whether VIRTIO_BLK_F_WRITE_ZEROES was negotiated
 * @param maxDiscardSectors     sectors per discard segment
 * @param maxDiscardSegments    segments per discard request
 * @param maxWriteZeroesSectors sectors per write-zeroes segment
 * @param maxWriteZeroesSegments segments per write-zeroes request
 */
public record DiskLimits(long capacitySectors, boolean readOnly, boolean flush, boolean discard, boolean writeZeroes,
        long maxDiscardSectors, int maxDiscardSegments, long maxWriteZeroesSectors, int maxWriteZeroesSegments) {

    public DiskLimits {
        if (capacitySectors < 0 || maxDiscardSegments < 0 || maxWriteZeroesSegments < 0) {
            throw new IllegalArgumentException("negative limit");
        }
    }

    /** The most segments any one request may carry: the size of a worker's segment arrays. */
    public int maxSegments() {
        return Math.max(1, Math.max(discard ? maxDiscardSegments : 0, writeZeroes ? maxWriteZeroesSegments : 0));
    }
}
