package org.jvirtio.device.blk.backend.memory;

import java.nio.ByteBuffer;

import org.jvirtio.device.blk.backend.BlockBackend;
import org.jvirtio.device.blk.backend.support.Zeroes;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * A RAM disk in one heap or direct {@link ByteBuffer}, so at most 2 GiB - 1 bytes. Only absolute bulk
 * gets and puts touch the buffer: they never move its position, so concurrent queues need no lock
 * (overlapping concurrent requests race exactly as they would on a real disk).
 */
@Component(service = BlockBackend.class, configurationPolicy = ConfigurationPolicy.REQUIRE,
        configurationPid = MemoryBackend.PID)
@Designate(ocd = MemoryBackend.Config.class, factory = true)
public final class MemoryBackend implements BlockBackend {
    public static final String PID = "org.jvirtio.blk.backend.memory";

    @ObjectClassDefinition(name = "jvirtio block backend: memory", description = "A RAM disk")
    public @interface Config {
        /** Bytes of disk, at most 2 GiB - 1. */
        long size();

        /** Off-heap (direct) memory rather than a heap array. */
        boolean direct() default true;

        boolean readOnly() default false;

        int blockSize() default 512;
    }

    private final ByteBuffer disk;
    private final boolean readOnly;
    private final int blockSize;

    @Activate
    public MemoryBackend(Config config) {
        this(allocate(config.size(), config.direct()), config.readOnly(), config.blockSize());
    }

    /** A disk over {@code disk}'s whole capacity, sharing its content (tests may inspect it). */
    public MemoryBackend(ByteBuffer disk, boolean readOnly, int blockSize) {
        if (blockSize < 512 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("block size must be a power of two >= 512: " + blockSize);
        }
        this.disk = disk.duplicate().clear();
        this.readOnly = readOnly;
        this.blockSize = blockSize;
    }

    /** A zeroed writable disk of {@code size} bytes, 512-byte blocks. */
    public static MemoryBackend of(long size, boolean direct) {
        return new MemoryBackend(allocate(size, direct), false, 512);
    }

    private static ByteBuffer allocate(long size, boolean direct) {
        if (size < 0 || size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a memory disk holds 0 to 2 GiB - 1 bytes: " + size);
        }
        return direct ? ByteBuffer.allocateDirect((int) size) : ByteBuffer.allocate((int) size);
    }

    @Override
    public long size() {
        return disk.capacity();
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        int n = dst.remaining();
        dst.put(dst.position(), disk, index(offset, n), n);
        dst.position(dst.limit());
    }

    @Override
    public void write(long offset, ByteBuffer src) {
        int n = src.remaining();
        requireWritable();
        disk.put(index(offset, n), src, src.position(), n);
        src.position(src.limit());
    }

    @Override
    public void flush() {
        // nothing is ever volatile: a completed write is already in the buffer
    }

    @Override
    public void discard(long offset, long length) {
        // a RAM disk frees nothing; zeroes make the range read back the same way every time
        writeZeroes(offset, length, true);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayUnmap) {
        requireWritable();
        int at = index(offset, length);
        int end = at + (int) length;
        while (at < end) {
            int n = Math.min(Zeroes.CHUNK, end - at);
            disk.put(at, Zeroes.shared(), 0, n);
            at += n;
        }
    }

    /** The index of {@code [offset, offset + length)} in the buffer; a bad range is a device bug. */
    private int index(long offset, long length) {
        if (offset < 0 || length < 0 || offset > disk.capacity() - length) {
            throw new IndexOutOfBoundsException("[" + offset + ", +" + length + ") outside " + disk.capacity());
        }
        return (int) offset;
    }

    private void requireWritable() {
        if (readOnly) {
            throw new UnsupportedOperationException("read-only memory disk");
        }
    }

    @Deactivate
    @Override
    public void close() {
        // the buffer goes with the garbage collector
    }

    @Override
    public String toString() {
        return "MemoryBackend[" + disk.capacity() + " bytes" + (disk.isDirect() ? ", direct" : ", heap")
                + (readOnly ? ", read-only]" : "]");
    }
}
