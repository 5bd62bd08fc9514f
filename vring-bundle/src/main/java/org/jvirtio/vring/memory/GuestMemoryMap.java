package org.jvirtio.vring.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.memory.GuestMemoryException;

/**
 * An immutable map of guest-physical regions onto host memory. Regions are sorted and never overlap;
 * each is cut into views of at most 1 GiB ({@link ByteBuffer} cannot address more), and an access that
 * straddles two views or two adjacent regions takes a slower, still exact path.
 *
 * <p>Every public method checks its whole range before touching a byte: a range that is not mapped
 * throws {@link GuestMemoryException} and copies nothing.
 */
public final class GuestMemoryMap implements GuestMemory {
    private static final int VIEW_SHIFT = 30;
    private static final int VIEW_SIZE = 1 << VIEW_SHIFT;
    private static final long VIEW_MASK = VIEW_SIZE - 1;
    /** Bounded so that a region index fits the encoded location (see {@link #locate}). */
    public static final int MAX_REGIONS = 2048;

    private static final VarHandle SHORT = MethodHandles.byteBufferViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** A map with no memory at all: every access fails. */
    public static final GuestMemoryMap EMPTY = new GuestMemoryMap(new GuestRegion[0]);

    private final GuestRegion[] regions;
    private final long[] starts;
    private final long[] ends;
    private final ByteBuffer[][] views;
    /** The first region's bounds, tested before the search: one region is the common case. */
    private final long firstStart;
    private final long firstEnd;
    private final long size;

    private GuestMemoryMap(GuestRegion[] sorted) {
        if (sorted.length > MAX_REGIONS) {
            throw new IllegalArgumentException("at most " + MAX_REGIONS + " regions: " + sorted.length);
        }
        this.regions = sorted;
        this.starts = new long[sorted.length];
        this.ends = new long[sorted.length];
        this.views = new ByteBuffer[sorted.length][];
        this.firstStart = sorted.length > 0 ? sorted[0].guestAddress() : 0;
        this.firstEnd = sorted.length > 0 ? sorted[0].end() : 0;
        long total = 0;
        for (int i = 0; i < sorted.length; i++) {
            GuestRegion r = sorted[i];
            starts[i] = r.guestAddress();
            ends[i] = r.end();
            total += r.size();
            if (i > 0 && starts[i] < ends[i - 1]) {
                throw new IllegalArgumentException("regions overlap: " + sorted[i - 1] + " and " + r);
            }
            int count = (int) ((r.size() + VIEW_SIZE - 1) >>> VIEW_SHIFT);
            views[i] = new ByteBuffer[count];
            for (int k = 0; k < count; k++) {
                long offset = (long) k << VIEW_SHIFT;
                int length = (int) Math.min(VIEW_SIZE, r.size() - offset);
                views[i][k] = r.backing().slice(r.backingOffset() + offset, length).order(ByteOrder.LITTLE_ENDIAN);
            }
        }
        this.size = total;
    }

    /**
     * A map of {@code regions}.
     *
     * @throws IllegalArgumentException if two regions overlap
     */
    public static GuestMemoryMap of(List<GuestRegion> regions) {
        GuestRegion[] sorted = regions.toArray(new GuestRegion[0]);
        Arrays.sort(sorted, Comparator.comparingLong(GuestRegion::guestAddress));
        return new GuestMemoryMap(sorted);
    }

    public static GuestMemoryMap of(GuestRegion... regions) {
        return of(List.of(regions));
    }

    /** The regions, sorted by guest address. */
    public List<GuestRegion> regions() {
        return List.of(regions);
    }

    /** Index of the region holding {@code address}, or -1. */
    private int regionOf(long address) {
        int lo = 0;
        int hi = starts.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (starts[mid] <= address) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return hi >= 0 && address < ends[hi] ? hi : -1;
    }

    @Override
    public boolean contains(long address, long length) {
        // Fast path: inside the first region. address >= firstStart >= 0, so firstEnd - address cannot
        // overflow; a negative length or an address past the region falls through to the full check.
        if (address >= firstStart && length >= 0 && length <= firstEnd - address) {
            return true;
        }
        if (address < 0 || length < 0 || length > Long.MAX_VALUE - address) {
            return false;
        }
        if (length == 0) {
            return true;
        }
        long end = address + length;
        int r = regionOf(address);
        while (r >= 0) {
            if (end <= ends[r]) {
                return true;
            }
            long next = ends[r];
            r = r + 1 < starts.length && starts[r + 1] == next ? r + 1 : -1;
        }
        return false;
    }

    private void require(long address, long length) {
        if (!contains(address, length)) {
            throw new GuestMemoryException("not in guest memory", address, length);
        }
    }

    /**
     * Where {@code [address, address + width)} lies when it is inside one view: the region index in
     * bits 52-62, the view index in bits 32-51 and the offset inside the view in bits 0-31; -1 when it
     * is not mapped or straddles a boundary. Encoded in a long so that the hot path allocates nothing.
     */
    private long locate(long address, int width) {
        int r = inFirstRegion(address, width) ? 0 : regionOf(address); // nearly every access: no search
        if (r < 0 || width > ends[r] - address) {
            return -1;
        }
        long offset = address - starts[r];
        long view = offset >>> VIEW_SHIFT;
        int inView = (int) (offset & VIEW_MASK);
        if (inView > views[r][(int) view].capacity() - width) {
            return -1;
        }
        return ((long) r << 52) | (view << 32) | inView;
    }

    private ByteBuffer viewAt(long location) {
        return views[(int) (location >>> 52)][(int) ((location >>> 32) & 0xFFFFF)];
    }

    @Override
    public ByteBuffer view(long address, int length) {
        require(address, length);
        int r = regionOf(address);
        if (length > ends[r] - address) {
            throw new GuestMemoryException("spans two regions", address, length);
        }
        GuestRegion region = regions[r];
        return region.backing().slice(region.backingOffset() + (address - starts[r]), length)
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void read(long address, ByteBuffer dst) {
        copy(address, dst, false);
    }

    @Override
    public void read(long address, byte[] dst, int offset, int length) {
        ByteBuffer view = firstRegionView(address, length);
        if (view != null) {
            view.get((int) ((address - firstStart) & VIEW_MASK), dst, offset, length);
            return;
        }
        read(address, ByteBuffer.wrap(dst, offset, length));
    }

    @Override
    public void write(long address, ByteBuffer src) {
        copy(address, src, true);
    }

    /**
     * Copies {@code buffer.remaining()} bytes between guest memory at {@code address} and
     * {@code buffer}, view by view, after checking the whole range: a range with any unmapped byte
     * throws and copies nothing.
     */
    private void copy(long address, ByteBuffer buffer, boolean toGuest) {
        int length = buffer.remaining();
        int position = buffer.position();
        ByteBuffer first = firstRegionView(address, length);
        if (first != null) {
            int inView = (int) ((address - firstStart) & VIEW_MASK);
            if (toGuest) {
                first.put(inView, buffer, position, length);
            } else {
                buffer.put(position, first, inView, length);
            }
            buffer.position(position + length);
            return;
        }
        require(address, length);
        long a = address;
        int left = length;
        while (left > 0) {
            int r = regionOf(a);
            long offset = a - starts[r];
            ByteBuffer view = views[r][(int) (offset >>> VIEW_SHIFT)];
            int inView = (int) (offset & VIEW_MASK);
            int n = (int) Math.min(left, Math.min(view.capacity() - inView, ends[r] - a));
            if (toGuest) {
                view.put(inView, buffer, position, n);
            } else {
                buffer.put(position, view, inView, n);
            }
            position += n;
            a += n;
            left -= n;
        }
        buffer.position(position);
    }

    @Override
    public void write(long address, byte[] src, int offset, int length) {
        ByteBuffer view = firstRegionView(address, length);
        if (view != null) {
            view.put((int) ((address - firstStart) & VIEW_MASK), src, offset, length);
            return;
        }
        write(address, ByteBuffer.wrap(src, offset, length));
    }

    /**
     * Whether {@code [address, address + length)} lies in the first region: the one range check of the
     * fast paths (nearly every access falls there), which then skip the region search. address >=
     * firstStart >= 0, so firstEnd - address cannot overflow.
     */
    private boolean inFirstRegion(long address, int length) {
        return address >= firstStart && length >= 0 && length <= firstEnd - address;
    }

    /**
     * The view of the first region that holds all of {@code [address, address + length)}, or null: the
     * fast path of every bulk copy (a packet buffer, nearly always); an array copy then wraps no buffer.
     */
    private ByteBuffer firstRegionView(long address, int length) {
        if (!inFirstRegion(address, length)) {
            return null;
        }
        long offset = address - firstStart;
        ByteBuffer view = views[0][(int) (offset >>> VIEW_SHIFT)];
        return length <= view.capacity() - (int) (offset & VIEW_MASK) ? view : null;
    }

    /** Reads {@code width} bytes as a little-endian value across a view or region boundary. */
    private long readStraddling(long address, int width) {
        ByteBuffer bytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        bytes.limit(width);
        read(address, bytes);
        return bytes.clear().getLong(0);
    }

    private void writeStraddling(long address, int width, long value) {
        ByteBuffer bytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, value);
        bytes.limit(width);
        write(address, bytes);
    }

    @Override
    public byte getByte(long address) {
        long at = locate(address, 1);
        if (at < 0) {
            throw new GuestMemoryException("not in guest memory", address, 1);
        }
        return viewAt(at).get((int) at);
    }

    @Override
    public short getShort(long address) {
        long at = locate(address, 2);
        return at >= 0 ? (short) SHORT.get(viewAt(at), (int) at) : (short) readStraddling(address, 2);
    }

    @Override
    public int getInt(long address) {
        long at = locate(address, 4);
        return at >= 0 ? (int) INT.get(viewAt(at), (int) at) : (int) readStraddling(address, 4);
    }

    @Override
    public long getLong(long address) {
        long at = locate(address, 8);
        return at >= 0 ? (long) LONG.get(viewAt(at), (int) at) : readStraddling(address, 8);
    }

    @Override
    public void putByte(long address, byte value) {
        long at = locate(address, 1);
        if (at < 0) {
            throw new GuestMemoryException("not in guest memory", address, 1);
        }
        viewAt(at).put((int) at, value);
    }

    @Override
    public void putShort(long address, short value) {
        long at = locate(address, 2);
        if (at >= 0) {
            SHORT.set(viewAt(at), (int) at, value);
        } else {
            writeStraddling(address, 2, value);
        }
    }

    @Override
    public void putInt(long address, int value) {
        long at = locate(address, 4);
        if (at >= 0) {
            INT.set(viewAt(at), (int) at, value);
        } else {
            writeStraddling(address, 4, value);
        }
    }

    @Override
    public void putLong(long address, long value) {
        long at = locate(address, 8);
        if (at >= 0) {
            LONG.set(viewAt(at), (int) at, value);
        } else {
            writeStraddling(address, 8, value);
        }
    }

    /** The location of an atomic 2-byte access: aligned and inside one view, else an exception. */
    private long atomicLocation(long address) {
        long at = (address & 1) == 0 ? locate(address, 2) : -1;
        if (at < 0) {
            throw new GuestMemoryException("not an aligned 16-bit location in guest memory", address, 2);
        }
        return at;
    }

    @Override
    public short getShortAcquire(long address) {
        long at = atomicLocation(address);
        try {
            return (short) SHORT.getAcquire(viewAt(at), (int) at);
        } catch (IllegalStateException misalignedHostAddress) {
            throw new GuestMemoryException("host address not aligned for an atomic access", address, 2);
        }
    }

    @Override
    public void putShortRelease(long address, short value) {
        long at = atomicLocation(address);
        try {
            SHORT.setRelease(viewAt(at), (int) at, value);
        } catch (IllegalStateException misalignedHostAddress) {
            throw new GuestMemoryException("host address not aligned for an atomic access", address, 2);
        }
    }

    @Override
    public GuestMemory snapshot() {
        return this;
    }

    @Override
    public long size() {
        return size;
    }

    /**
     * Releases the host pages behind a range of whole 4 KiB pages inside one region, through the
     * region's backing ({@link org.jvirtio.api.memory.MemoryBacking#discard}): a memfd mapping punches
     * a hole, a Java buffer releases nothing.
     */
    @Override
    public long discard(long address, long length) {
        if (length <= 0 || ((address | length) & (DISCARD_PAGE - 1)) != 0) {
            throw new GuestMemoryException("not whole 4 KiB pages", address, length);
        }
        int r = regionOf(address);
        if (r < 0 || length > ends[r] - address) {
            throw new GuestMemoryException(contains(address, length) ? "spans two regions" : "not in guest memory",
                    address, length);
        }
        GuestRegion region = regions[r];
        return region.backing().discard(region.backingOffset() + (address - starts[r]), length);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("GuestMemoryMap[");
        for (int i = 0; i < regions.length; i++) {
            sb.append(i == 0 ? "" : ", ").append("0x").append(Long.toHexString(starts[i]))
                    .append("-0x").append(Long.toHexString(ends[i]));
        }
        return sb.append(']').toString();
    }
}
