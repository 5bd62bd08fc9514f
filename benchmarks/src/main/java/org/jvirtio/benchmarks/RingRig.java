package org.jvirtio.benchmarks;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.nativeio.MappedMemory;
import org.jvirtio.nativeio.Memfd;
import org.jvirtio.nativeio.NativeException;
import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.memory.BufferBacking;
import org.jvirtio.vring.memory.GuestMemoryMap;
import org.jvirtio.vring.memory.GuestRegion;

/**
 * Guest memory for a benchmark, and where one ring, its indirect tables and its buffers sit in it.
 *
 * <pre>
 * GUEST_BASE
 *   descriptor table / packed descriptor ring   16 n bytes      (align 4096)
 *   driver area (split avail / packed event)    6 + 2 n bytes   (align 64)
 *   device area (split used / packed event)     6 + 8 n bytes   (align 64)
 *   indirect tables, one per token              16 n * maxIndirect (align 4096)
 *   buffers, maxIndirect per token              BUFFER_SIZE each (align 4096)
 * </pre>
 *
 * Each area has its own cache lines, so driver-written and device-written fields do not share a line
 * except where the ring format itself puts them together.
 */
public final class RingRig implements AutoCloseable {
    /** Guest-physical address of the region; not 0 so that a zero address is never valid. */
    static final long GUEST_BASE = 0x4000_0000L;
    static final int BUFFER_SIZE = 256;

    /** Where guest memory lives on the host. */
    public enum Backing {
        /** A direct ByteBuffer through {@link BufferBacking}. */
        buffer,
        /** A memfd mapped shared through the native bundle (what vhost-user hands a device). */
        memfd
    }

    final GuestMemoryMap memory;
    final QueueConfig config;
    final long indirectArea;
    final int size;
    final int maxIndirect;
    private final long buffers;
    private final NativeFd fd;
    private final MappedMemory mapping;

    RingRig(Backing backing, int size, int maxIndirect) throws NativeException {
        this.size = size;
        this.maxIndirect = maxIndirect;
        long desc = GUEST_BASE;
        long driver = align(desc + 16L * size, 64);
        long device = align(driver + 6L + 2L * size, 64);
        indirectArea = align(device + 6L + 8L * size, 4096);
        buffers = align(indirectArea + 16L * size * maxIndirect, 4096);
        long end = buffers + (long) size * maxIndirect * BUFFER_SIZE;
        int bytes = (int) align(end - GUEST_BASE, 1 << 20);
        config = new QueueConfig(size, desc, driver, device);
        if (backing == Backing.memfd) {
            fd = Memfd.create("jvirtio-bench", bytes);
            mapping = MappedMemory.map(fd, 0, bytes, true);
            memory = GuestMemoryMap.of(new GuestRegion(GUEST_BASE, mapping));
        } else {
            fd = null;
            mapping = null;
            memory = GuestMemoryMap.of(new GuestRegion(GUEST_BASE, BufferBacking.allocateDirect(bytes)));
        }
    }

    /** Buffer {@code i} (0 to maxIndirect - 1) that belongs to token {@code token}. */
    long buffer(int token, int i) {
        return buffers + ((long) token * maxIndirect + i) * BUFFER_SIZE;
    }

    /** Guest address of the indirect table reserved for {@code slot}. */
    long indirectTable(int slot) {
        return indirectArea + 16L * slot * maxIndirect;
    }

    static long features(boolean packed, boolean indirect) {
        long f = VirtioFeature.of(VirtioFeature.VERSION_1, VirtioFeature.RING_EVENT_IDX);
        if (indirect) {
            f |= VirtioFeature.bit(VirtioFeature.RING_INDIRECT_DESC);
        }
        if (packed) {
            f |= VirtioFeature.bit(VirtioFeature.RING_PACKED);
        }
        return f;
    }

    private static long align(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }

    /** Unmaps the memfd; nothing may touch {@link #memory} afterwards. */
    @Override
    public void close() {
        if (mapping != null) {
            mapping.close();
            fd.close();
        }
    }
}
