package org.jvirtio.api.memory;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The guest's memory, addressed by guest-physical address (GPA). Every address and length here may
 * come from an untrusted driver: each method checks that the whole range is mapped (no overflow, no
 * byte outside a region) and throws {@link GuestMemoryException} otherwise; no call ever touches
 * memory outside the regions. All multi-byte values are little-endian, as virtio 1.x requires.
 *
 * <p>An instance is an immutable snapshot of the region map. Where the map can change (vhost-user
 * SET_MEM_TABLE, QEMU SYNC_SYSMEM), the transport hands out a swappable instance whose
 * {@link #snapshot()} returns the map in force; a worker takes one snapshot per batch.
 */
@ProviderType
public interface GuestMemory {
    /** The granule of {@link #discard}: 4 KiB, the page of virtio-balloon and of x86 hosts. */
    long DISCARD_PAGE = 4096;

    /** Whether every byte of {@code [address, address + length)} is mapped; false on overflow or negative length. */
    boolean contains(long address, long length);

    /**
     * A little-endian view of exactly {@code [address, address + length)}, position 0, limit
     * {@code length}. Resolves ring areas once at set-up; allocates, so not for the hot path.
     *
     * @throws GuestMemoryException if the range is not inside one contiguous mapping
     */
    ByteBuffer view(long address, int length);

    /** Copies {@code dst.remaining()} bytes starting at {@code address} into {@code dst}, advancing its position. */
    void read(long address, ByteBuffer dst);

    /** Copies {@code length} bytes starting at {@code address} into {@code dst[offset..]}. */
    void read(long address, byte[] dst, int offset, int length);

    /** Copies {@code src.remaining()} bytes from {@code src} to guest memory at {@code address}, advancing its position. */
    void write(long address, ByteBuffer src);

    /** Copies {@code length} bytes from {@code src[offset..]} to guest memory at {@code address}. */
    void write(long address, byte[] src, int offset, int length);

    byte getByte(long address);

    short getShort(long address);

    int getInt(long address);

    long getLong(long address);

    void putByte(long address, byte value);

    void putShort(long address, short value);

    void putInt(long address, int value);

    void putLong(long address, long value);

    /** Loads a ring index with acquire semantics: later reads of what it guards see the peer's stores. */
    short getShortAcquire(long address);

    /** Stores a ring index with release semantics: earlier stores are visible before it. */
    void putShortRelease(long address, short value);

    /** The map in force now; an immutable map returns itself. */
    GuestMemory snapshot();

    /**
     * Bytes of guest memory mapped: the sum of the regions' sizes (holes between regions not counted).
     * A device that sizes something by the guest's memory (a balloon's target) asks this.
     *
     * @since 1.1
     */
    long size();

    /**
     * Gives the host memory behind {@code [address, address + length)} back to the host (balloon
     * inflation, free page reporting): afterwards the range reads as zeros and costs the host nothing
     * until the guest touches it again. The range must be whole {@link #DISCARD_PAGE} pages inside one
     * region; a backing that cannot release memory (a Java buffer, pages larger than the range)
     * releases nothing and leaves the contents as they were.
     *
     * <p>The default checks the range and releases nothing.
     *
     * @return bytes of host memory released (0 to {@code length})
     * @throws GuestMemoryException if the range is empty, not aligned to {@link #DISCARD_PAGE}, or not
     *         inside one region
     * @since 1.1
     */
    default long discard(long address, long length) {
        if (length <= 0 || ((address | length) & (DISCARD_PAGE - 1)) != 0) {
            throw new GuestMemoryException("not whole 4 KiB pages", address, length);
        }
        if (!contains(address, length)) {
            throw new GuestMemoryException("not in guest memory", address, length);
        }
        return 0;
    }
}
