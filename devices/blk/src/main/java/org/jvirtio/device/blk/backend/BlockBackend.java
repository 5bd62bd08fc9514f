package org.jvirtio.device.blk.backend;

import java.io.IOException;
import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * The storage behind one virtio-blk device, addressed in bytes.
 *
 * <p>Thread-safe: every queue of a multi-queue device calls in from its own thread at the same time, so
 * an implementation uses positional I/O and keeps no "current position". The device has already
 * checked every offset and length against {@link #size()} before it calls; a backend need not re-check
 * guest input, but it must never corrupt memory if called wrongly.
 *
 * <p>Errors are {@link IOException}s; the device answers the request with VIRTIO_BLK_S_IOERR, counts
 * it, and keeps serving the queue.
 */
@ConsumerType
public interface BlockBackend extends AutoCloseable {

    /** Bytes of storage; the device exposes {@code size() / 512} sectors and ignores a partial tail. */
    long size();

    /** Whether writes are refused: the device then offers VIRTIO_BLK_F_RO. */
    boolean isReadOnly();

    /** The logical block size reported to the driver (blk_size): a power of two, at least 512. */
    int blockSize();

    /**
     * Fills {@code dst} from its position to its limit with the bytes at {@code offset}, advancing its
     * position to its limit.
     */
    void read(long offset, ByteBuffer dst) throws IOException;

    /** Writes all of {@code src}'s remaining bytes at {@code offset}, advancing its position to its limit. */
    void write(long offset, ByteBuffer src) throws IOException;

    /** Makes every completed write stable (VIRTIO_BLK_T_FLUSH, or after each write in write-through mode). */
    void flush() throws IOException;

    /**
     * The driver no longer needs {@code [offset, offset + length)}. A backend may deallocate it or do
     * nothing: virtio does not define what a discarded range reads back as.
     */
    void discard(long offset, long length) throws IOException;

    /**
     * Makes {@code [offset, offset + length)} read back as zeroes; with {@code mayUnmap} the backend may
     * deallocate the range instead of writing, if it still reads as zeroes.
     */
    void writeZeroes(long offset, long length, boolean mayUnmap) throws IOException;

    /** Releases the storage; no call may follow. */
    @Override
    void close() throws IOException;
}
