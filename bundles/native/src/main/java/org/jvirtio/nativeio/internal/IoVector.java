package org.jvirtio.nativeio.internal;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * A native {@code struct iovec} array for {@code readv}/{@code writev}, made once and refilled per call
 * from direct buffers, so that scatter/gather I/O allocates nothing.
 *
 * <p>Layout (x86-64): {@code IOV_MAX} entries of {@code void *iov_base} at 0 and {@code size_t iov_len}
 * at 8, 16 bytes each. Not thread-safe: the owner lets one call at a time use it.
 */
public final class IoVector {

    private final Memory memory = new Memory((long) LibC.IOV_MAX * LibC.IOVEC_SIZE);
    private final long base = Pointer.nativeValue(memory);

    /** The array's address, for readv/writev. */
    public long address() {
        return base;
    }

    /**
     * Describes the remaining bytes of {@code buffers[offset .. offset + length)}, one entry per buffer.
     *
     * @param into true if the kernel will write into the buffers (readv): read-only ones are refused
     * @return the number of entries, {@code length}
     * @throws IllegalArgumentException  if a buffer is not direct, or more than {@code IOV_MAX} are given
     * @throws ReadOnlyBufferException   if {@code into} and a buffer is read-only
     */
    public int fill(ByteBuffer[] buffers, int offset, int length, boolean into) {
        java.util.Objects.checkFromIndexSize(offset, length, buffers.length);
        if (length > LibC.IOV_MAX) {
            throw new IllegalArgumentException(length + " buffers, at most " + LibC.IOV_MAX);
        }
        for (int i = 0; i < length; i++) {
            ByteBuffer buffer = buffers[offset + i];
            DirectBuffers.check(buffer, into);
            long entry = (long) i * LibC.IOVEC_SIZE;
            memory.setLong(entry, DirectBuffers.address(buffer));
            memory.setLong(entry + 8, buffer.remaining());
        }
        return length;
    }

    /** Moves the positions of the buffers forward by {@code transferred} bytes in total, in order. */
    public static void advance(ByteBuffer[] buffers, int offset, int length, long transferred) {
        long left = transferred;
        for (int i = 0; i < length && left > 0; i++) {
            ByteBuffer buffer = buffers[offset + i];
            int step = (int) Math.min(buffer.remaining(), left);
            buffer.position(buffer.position() + step);
            left -= step;
        }
    }

    /** Frees the array; the owner makes sure no call uses it any more. */
    public void free() {
        memory.close();
    }
}
