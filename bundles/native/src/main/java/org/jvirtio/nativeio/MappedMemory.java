package org.jvirtio.nativeio;

import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

import com.sun.jna.Pointer;

import org.jvirtio.api.memory.MemoryBacking;
import org.jvirtio.nativeio.internal.Errno;
import org.jvirtio.nativeio.internal.LibC;
import org.jvirtio.nativeio.internal.ReleaseOnce;

/**
 * A shared memory mapping ({@code mmap(MAP_SHARED)}) that backs guest memory: of a memfd or hugetlbfs
 * file the guest's RAM lives in, or anonymous for tests and local devices. Unmapped exactly once, on the
 * first {@link #close()}.
 *
 * <p><b>Views die with the mapping.</b> {@link #slice} returns direct ByteBuffers over the mapped pages
 * without owning them. Touching such a view after {@link #close()} reads or writes unmapped memory and
 * crashes the JVM (or, worse, hits a new mapping at the same address). The owner of a MappedMemory
 * guarantees that every user of its views has stopped before closing it; this class does not, and cannot
 * cheaply, check.
 *
 * <p>Thread safety: all methods may be called concurrently, subject to the rule above.
 */
public final class MappedMemory implements MemoryBacking, AutoCloseable {

    private static final long PAGE_SIZE = LibC.sysconf(LibC.SC_PAGESIZE);

    private final ReleaseOnce mapping;
    private final Pointer base;
    private final long size;
    private final boolean writable;

    private MappedMemory(long address, long size, boolean writable) {
        this.mapping = new ReleaseOnce(address, "mapping", mapped -> unmap(mapped, size));
        this.base = new Pointer(address);
        this.size = size;
        this.writable = writable;
    }

    /**
     * Maps {@code size} bytes of {@code fd} from {@code fileOffset}, shared, so writes reach the file and
     * every other mapping of it (another process's included). The descriptor may be closed afterwards;
     * the mapping keeps the file alive.
     *
     * @param fileOffset must be a multiple of {@link #pageSize()} (else {@code EINVAL})
     * @param writable   false maps read-only; {@link #slice} then returns read-only views, because a
     *                   write through a direct buffer into a read-only page kills the JVM
     */
    public static MappedMemory map(NativeFd fd, long fileOffset, long size, boolean writable) throws NativeException {
        requirePositive(size);
        int raw = fd.value();
        long address = LibC.mmap(0, size, protection(writable), LibC.MAP_SHARED, raw, fileOffset);
        if (address == LibC.MAP_FAILED) {
            throw Errno.failure("mmap", "fd=" + raw + ", offset=" + fileOffset + ", len=" + size);
        }
        return new MappedMemory(address, size, writable);
    }

    /**
     * Maps {@code size} bytes of zeroed anonymous memory, shared ({@code MAP_SHARED|MAP_ANONYMOUS}) so
     * that it behaves like a memfd mapping ({@link Advice#REMOVE} works), just without a descriptor.
     */
    public static MappedMemory anonymous(long size) throws NativeException {
        requirePositive(size);
        long address = LibC.mmap(0, size, protection(true), LibC.MAP_SHARED | LibC.MAP_ANONYMOUS, -1, 0);
        if (address == LibC.MAP_FAILED) {
            throw Errno.failure("mmap", "len=" + size);
        }
        return new MappedMemory(address, size, true);
    }

    /** The system page size: the alignment of file offsets and of {@link #madvise} ranges. */
    public static long pageSize() {
        return PAGE_SIZE;
    }

    @Override
    public long size() {
        return size;
    }

    public boolean isWritable() {
        return writable;
    }

    public boolean isOpen() {
        return mapping.isOpen();
    }

    /**
     * A direct ByteBuffer over {@code [offset, offset + length)} of the mapping: position 0, little-endian
     * (virtio's byte order, and the CPU's), read-only if the mapping is. Valid until {@link #close()}; see
     * the class comment.
     *
     * @throws IndexOutOfBoundsException if the range is not inside {@link #size()}
     * @throws IllegalStateException     once closed
     */
    @Override
    public ByteBuffer slice(long offset, int length) {
        Objects.checkFromIndexSize(offset, length, size);
        mapping.get();
        ByteBuffer view = base.getByteBuffer(offset, length);
        // asReadOnlyBuffer() resets the order to big-endian: set it last so both kinds agree.
        return (writable ? view : view.asReadOnlyBuffer()).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Advises the kernel about {@code [offset, offset + length)}: give pages back ({@link Advice#REMOVE},
     * {@link Advice#DONTNEED}) or fetch them early. The kernel requires {@code offset} to be
     * page-aligned; it rounds {@code length} up to whole pages.
     *
     * @throws IndexOutOfBoundsException if the range is not inside {@link #size()}
     * @throws NativeException           e.g. {@code EINVAL} for an unaligned offset or advice the kernel
     *                                   does not support for this kind of mapping
     */
    public void madvise(long offset, long length, Advice advice) throws NativeException {
        Objects.checkFromIndexSize(offset, length, size);
        long address = mapping.get() + offset;
        if (LibC.madvise(address, length, advice.linuxValue) < 0) {
            throw Errno.failure("madvise", "offset=" + offset + ", len=" + length + ", " + advice);
        }
    }

    /**
     * Releases the whole {@link #pageSize()} pages inside {@code [offset, offset + length)} with
     * {@link Advice#REMOVE}: a hole is punched in the backing file (memfd, shmem), so the memory goes
     * back to the host and the range reads as zeros in every mapping of the file. {@link Advice#DONTNEED}
     * would not do: on a shared mapping it only drops this mapping's page table entries, the pages stay
     * in the file. A read-only mapping releases nothing (the file is not this mapping's to change).
     *
     * @return bytes released: the page-aligned part of the range, 0 if it covers no whole page
     * @throws IndexOutOfBoundsException if the range is not inside {@link #size()}
     * @throws UncheckedIOException      if the kernel refuses (e.g. {@code EINVAL} for a hugetlbfs
     *                                   mapping whose huge pages the range does not cover whole)
     * @throws IllegalStateException     once closed
     */
    @Override
    public long discard(long offset, long length) {
        Objects.checkFromIndexSize(offset, length, size);
        long start = (offset + PAGE_SIZE - 1) & -PAGE_SIZE;
        long end = (offset + length) & -PAGE_SIZE;
        if (!writable || end <= start) {
            return 0;
        }
        try {
            madvise(start, end - start, Advice.REMOVE);
        } catch (NativeException e) {
            throw new UncheckedIOException(e);
        }
        return end - start;
    }

    /** Unmaps the first time; afterwards does nothing. Views from {@link #slice} must be dead by now. */
    @Override
    public void close() {
        mapping.release();
    }

    private static void requirePositive(long size) {
        if (size <= 0) {
            throw new IllegalArgumentException("mapping size must be positive: " + size);
        }
    }

    private static int protection(boolean writable) {
        return writable ? LibC.PROT_READ | LibC.PROT_WRITE : LibC.PROT_READ;
    }

    private static void unmap(long address, long size) throws NativeException {
        if (LibC.munmap(address, size) < 0) {
            throw Errno.failure("munmap", "len=" + size);
        }
    }

    @Override
    public String toString() {
        return "MappedMemory[" + mapping + ", size=" + size + (writable ? "" : ", read-only") + "]";
    }
}
