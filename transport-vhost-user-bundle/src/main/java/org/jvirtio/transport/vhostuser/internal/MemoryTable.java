package org.jvirtio.transport.vhostuser.internal;

import java.util.ArrayList;
import java.util.List;

import org.jvirtio.vring.memory.GuestMemoryMap;
import org.jvirtio.vring.memory.GuestRegion;

/**
 * An immutable memory table: the mapped regions and the {@link GuestMemoryMap} over them. A change
 * (SET_MEM_TABLE, ADD_MEM_REG, REM_MEM_REG) builds a new table; the connection installs it and
 * retires the old one (see {@code Connection#installMemory} for when its mappings are unmapped).
 *
 * <p>Ring addresses arrive in the front end's virtual address space: {@link #toGuest} translates them.
 */
public final class MemoryTable {
    /** What GET_MAX_MEM_SLOTS answers: regions one table may hold. */
    public static final int MAX_SLOTS = 32;

    public static final MemoryTable EMPTY = new MemoryTable(List.of());

    private final List<MemoryRegion> regions;
    private final GuestMemoryMap map;

    private MemoryTable(List<MemoryRegion> regions) {
        this.regions = List.copyOf(regions);
        List<GuestRegion> guest = new ArrayList<>();
        for (MemoryRegion r : regions) {
            guest.add(r.guestRegion());
        }
        this.map = GuestMemoryMap.of(guest);
    }

    /**
     * A table of {@code regions}; they must overlap neither in guest-physical nor in user addresses.
     * On failure nothing is closed: the caller owns the regions until this returns.
     */
    public static MemoryTable of(List<MemoryRegion> regions) throws Failure {
        if (regions.size() > MAX_SLOTS) {
            throw new Failure(regions.size() + " regions, at most " + MAX_SLOTS);
        }
        for (int i = 0; i < regions.size(); i++) {
            for (int k = i + 1; k < regions.size(); k++) {
                if (regions.get(i).overlaps(regions.get(k))) {
                    throw new Failure("regions overlap: " + regions.get(i) + " and " + regions.get(k));
                }
            }
        }
        return new MemoryTable(regions);
    }

    public GuestMemoryMap map() {
        return map;
    }

    public List<MemoryRegion> regions() {
        return regions;
    }

    /** This table plus {@code region}. */
    public MemoryTable with(MemoryRegion region) throws Failure {
        List<MemoryRegion> next = new ArrayList<>(regions);
        next.add(region);
        return of(next);
    }

    /** The region that REM_MEM_REG names (same guest address, user address and size), or null. */
    public MemoryRegion find(long guestAddress, long size, long userAddress) {
        for (MemoryRegion r : regions) {
            if (r.guestAddress() == guestAddress && r.size() == size && r.userAddress() == userAddress) {
                return r;
            }
        }
        return null;
    }

    /** This table without {@code region}. */
    public MemoryTable without(MemoryRegion region) {
        List<MemoryRegion> next = new ArrayList<>(regions);
        next.remove(region);
        return new MemoryTable(next);
    }

    /**
     * The guest-physical address of front-end user address {@code uva} whose {@code length} bytes lie
     * in one region, or -1.
     */
    public long toGuest(long uva, long length) {
        for (MemoryRegion r : regions) {
            long offset = uva - r.userAddress();
            if (uva >= r.userAddress() && offset < r.size() && length <= r.size() - offset) {
                return r.guestAddress() + offset;
            }
        }
        return -1;
    }

    /** The regions whose files shrank under their mappings (see {@link MemoryRegion#isTruncated}). */
    List<MemoryRegion> truncated() {
        List<MemoryRegion> gone = new ArrayList<>();
        for (MemoryRegion r : regions) {
            if (r.isTruncated()) {
                gone.add(r);
            }
        }
        return gone;
    }

    /** The regions of this table that {@code successor} no longer has: to unmap once unreachable. */
    List<MemoryRegion> dropped(MemoryTable successor) {
        List<MemoryRegion> gone = new ArrayList<>();
        for (MemoryRegion r : regions) {
            if (!successor.regions.contains(r)) {
                gone.add(r);
            }
        }
        return gone;
    }

    @Override
    public String toString() {
        return "MemoryTable" + regions;
    }
}
