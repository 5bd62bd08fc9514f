package org.jvirtio.vring.memory;

import java.util.Objects;

import org.jvirtio.api.memory.MemoryBacking;

/**
 * One guest-physical range {@code [guestAddress, guestAddress + size)} backed by host memory starting
 * at {@code backingOffset} of {@code backing}.
 */
public record GuestRegion(long guestAddress, long size, MemoryBacking backing, long backingOffset) {

    public GuestRegion {
        Objects.requireNonNull(backing, "backing");
        if (guestAddress < 0 || size <= 0 || size > Long.MAX_VALUE - guestAddress) {
            throw new IllegalArgumentException("bad region [0x" + Long.toHexString(guestAddress) + ", +" + size + ")");
        }
        if (backingOffset < 0 || backingOffset > backing.size() || size > backing.size() - backingOffset) {
            throw new IllegalArgumentException("region of " + size + " bytes at offset " + backingOffset
                    + " does not fit its backing of " + backing.size() + " bytes");
        }
    }

    public GuestRegion(long guestAddress, MemoryBacking backing) {
        this(guestAddress, backing.size(), backing, 0);
    }

    /** First guest address past the region. */
    public long end() {
        return guestAddress + size;
    }
}
