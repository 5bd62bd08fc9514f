package org.jvirtio.transport.vhostuser.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.jvirtio.nativeio.MappedMemory;
import org.jvirtio.nativeio.NativeException;
import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.vring.memory.GuestRegion;

/**
 * One region of the front end's memory table, mapped here: guest-physical range, the front end's own
 * (user) address of it, and the mapping of its file from {@code mmapOffset} rounded down to a page.
 */
public final class MemoryRegion implements AutoCloseable {
    /** Bytes of one region description on the wire: gpa, size, uva, mmap offset. */
    public static final int WIRE_SIZE = 32;

    private final long guestAddress;
    private final long size;
    private final long userAddress;
    private final MappedMemory mapping;
    private final long backingOffset;

    private MemoryRegion(long guestAddress, long size, long userAddress, MappedMemory mapping, long backingOffset) {
        this.guestAddress = guestAddress;
        this.size = size;
        this.userAddress = userAddress;
        this.mapping = mapping;
        this.backingOffset = backingOffset;
    }

    /**
     * Checks a region description and maps its file. The file must be at least {@code mmapOffset + size}
     * bytes: a mapping past the end of a file would raise SIGBUS on first touch and kill the JVM.
     */
    public static MemoryRegion map(long guestAddress, long size, long userAddress, long mmapOffset, NativeFd fd)
            throws Failure {
        if (size <= 0 || guestAddress < 0 || userAddress < 0 || mmapOffset < 0
                || size > Long.MAX_VALUE - guestAddress || size > Long.MAX_VALUE - userAddress
                || size > Long.MAX_VALUE - mmapOffset) {
            throw new Failure("bad region " + describe(guestAddress, size, userAddress, mmapOffset));
        }
        long fileSize = fileSize(fd);
        if (fileSize < mmapOffset + size) {
            throw new Failure("region " + describe(guestAddress, size, userAddress, mmapOffset)
                    + " does not fit its file of " + fileSize + " bytes");
        }
        long page = MappedMemory.pageSize();
        long start = mmapOffset & -page;
        try {
            MappedMemory mapping = MappedMemory.map(fd, start, size + (mmapOffset - start), true);
            return new MemoryRegion(guestAddress, size, userAddress, mapping, mmapOffset - start);
        } catch (NativeException | RuntimeException e) {
            throw new Failure("region " + describe(guestAddress, size, userAddress, mmapOffset) + " is not mappable", e);
        }
    }

    /**
     * The size of the file behind {@code fd}, through {@code /proc/self/fd} (the native bundle has no
     * fstat); 0 for anything that is not a regular file (a socket, an eventfd).
     */
    static long fileSize(NativeFd fd) throws Failure {
        try {
            Path link = Path.of("/proc/self/fd/" + fd.value());
            return Files.isRegularFile(link) ? Files.size(link) : 0;
        } catch (IOException | RuntimeException e) {
            throw new Failure("cannot stat descriptor " + fd, e);
        }
    }

    private static String describe(long gpa, long size, long uva, long offset) {
        return "[gpa 0x" + Long.toHexString(gpa) + ", size 0x" + Long.toHexString(size) + ", uva 0x"
                + Long.toHexString(uva) + ", offset 0x" + Long.toHexString(offset) + "]";
    }

    public long guestAddress() {
        return guestAddress;
    }

    public long size() {
        return size;
    }

    public long userAddress() {
        return userAddress;
    }

    GuestRegion guestRegion() {
        return new GuestRegion(guestAddress, size, mapping, backingOffset);
    }

    boolean overlaps(MemoryRegion other) {
        return guestAddress < other.guestAddress + other.size && other.guestAddress < guestAddress + size
                || userAddress < other.userAddress + other.size && other.userAddress < userAddress + size;
    }

    /** Unmaps. Only once no queue and no chain can reach the mapping (see {@link MemoryTable}). */
    @Override
    public void close() {
        mapping.close();
    }

    @Override
    public String toString() {
        return "region[gpa 0x" + Long.toHexString(guestAddress) + ", size 0x" + Long.toHexString(size)
                + ", uva 0x" + Long.toHexString(userAddress) + "]";
    }
}
