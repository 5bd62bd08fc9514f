package org.jvirtio.transport.vhostuser.internal;

import org.jvirtio.nativeio.FileSeals;
import org.jvirtio.nativeio.MappedMemory;
import org.jvirtio.nativeio.NativeException;
import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.vring.memory.GuestRegion;

/**
 * One region of the front end's memory table, mapped here: guest-physical range, the front end's own
 * (user) address of it, and the mapping of its file from {@code mmapOffset} rounded down to a page.
 *
 * <p><b>Truncation.</b> The size is checked before mapping, but the front end can shrink the file
 * afterwards unless it is sealed against that ({@link FileSeals#SHRINK}: QEMU's memory-backend-memfd by
 * default; a memory-backend-file cannot be sealed). An access to a page past the new end then faults:
 * HotSpot turns the SIGBUS into an {@link InternalError} (see {@link #isAccessFault}), or, in compiled
 * code whose faulting instruction it cannot step over, aborts the JVM. The region keeps a descriptor of
 * its file so that such a fault can be traced to the region whose file shrank ({@link #isTruncated}).
 */
public final class MemoryRegion implements AutoCloseable {
    /** Bytes of one region description on the wire: gpa, size, uva, mmap offset. */
    public static final int WIRE_SIZE = 32;

    private final long guestAddress;
    private final long size;
    private final long userAddress;
    private final MappedMemory mapping;
    private final long backingOffset;
    /** A descriptor of the mapped file, owned: its size tells whether the file shrank under the mapping. */
    private final NativeFd file;
    private final long fileEnd;
    private final int seals;

    private MemoryRegion(long guestAddress, long size, long userAddress, MappedMemory mapping, long backingOffset,
            NativeFd file, long fileEnd, int seals) {
        this.guestAddress = guestAddress;
        this.size = size;
        this.userAddress = userAddress;
        this.mapping = mapping;
        this.backingOffset = backingOffset;
        this.file = file;
        this.fileEnd = fileEnd;
        this.seals = seals;
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
        int seals;
        try {
            seals = FileSeals.of(fd);
        } catch (NativeException | RuntimeException e) {
            throw new Failure("region " + describe(guestAddress, size, userAddress, mmapOffset)
                    + ": cannot read the seals of its file", e);
        }
        long page = MappedMemory.pageSize();
        long start = mmapOffset & -page;
        NativeFd file = null;
        try {
            file = fd.duplicate();
            MappedMemory mapping = MappedMemory.map(fd, start, size + (mmapOffset - start), true);
            return new MemoryRegion(guestAddress, size, userAddress, mapping, mmapOffset - start, file,
                    mmapOffset + size, seals);
        } catch (NativeException | RuntimeException e) {
            if (file != null) {
                file.close();
            }
            throw new Failure("region " + describe(guestAddress, size, userAddress, mmapOffset) + " is not mappable", e);
        }
    }

    /** The size of the file behind {@code fd} (fstat); 0 for what has no size (a socket, an eventfd). */
    static long fileSize(NativeFd fd) throws Failure {
        try {
            return fd.size();
        } catch (NativeException | RuntimeException e) {
            throw new Failure("cannot stat descriptor " + fd, e);
        }
    }

    /** Whether the front end sealed the file against shrinking: then no access to this region can fault. */
    boolean sealedAgainstShrinking() {
        return FileSeals.preventsShrinking(seals);
    }

    /** The file's seals, for messages: {@code "SEAL|SHRINK|GROW"}, {@code "none"}, {@code "unsupported"}. */
    String seals() {
        return FileSeals.describe(seals);
    }

    /** Whether the file is now shorter than the mapped range (or can no longer be asked): pages are gone. */
    boolean isTruncated() {
        try {
            return file.size() < fileEnd;
        } catch (NativeException | RuntimeException e) {
            return true;
        }
    }

    /**
     * Whether {@code e} is HotSpot's report of a fault in an Unsafe access (direct ByteBuffer or
     * VarHandle on a mapping): a SIGBUS on a page whose file was truncated. Thrown by the access itself
     * in interpreted code; in compiled code asynchronously, at a later safepoint of the same thread.
     */
    static boolean isAccessFault(InternalError e) {
        String message = e.getMessage();
        return message != null && message.contains("fault occurred in") && message.contains("unsafe memory access");
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

    /** Where in its file the region starts (the mmap offset the front end gave). */
    public long mmapOffset() {
        return fileEnd - size;
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
        file.close();
    }

    @Override
    public String toString() {
        return "region[gpa 0x" + Long.toHexString(guestAddress) + ", size 0x" + Long.toHexString(size)
                + ", uva 0x" + Long.toHexString(userAddress) + "]";
    }
}
