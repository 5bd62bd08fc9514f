package org.jvirtio.device.balloon.control;

import java.util.Locale;

/**
 * The tags of {@code struct virtio_balloon_stat} (virtio 1.2 section 5.5.6.3, and the ones Linux added
 * since, up to tag 15), in tag order: {@code ordinal()} is the tag. Memory amounts are in bytes, event
 * counts are plain numbers, all as the guest reports them.
 */
public enum StatTag {
    /** Bytes swapped in. */
    SWAP_IN,
    /** Bytes swapped out. */
    SWAP_OUT,
    /** Major page faults. */
    MAJFLT,
    /** Minor page faults. */
    MINFLT,
    /** Bytes of memory not used for anything. */
    MEMFREE,
    /** Bytes of memory the guest can use in total. */
    MEMTOT,
    /** Bytes available for new work without swapping (an estimate). */
    AVAIL,
    /** Bytes of disk caches that could be freed. */
    CACHES,
    /** Successful huge page allocations. */
    HTLB_PGALLOC,
    /** Failed huge page allocations. */
    HTLB_PGFAIL,
    /** OOM killer invocations. */
    OOM_KILL,
    /** Allocations that stalled for reclaim. */
    ALLOC_STALL,
    /** Bytes scanned by background reclaim. */
    ASYNC_SCAN,
    /** Bytes scanned by direct reclaim. */
    DIRECT_SCAN,
    /** Bytes reclaimed in the background. */
    ASYNC_RECLAIM,
    /** Bytes reclaimed directly. */
    DIRECT_RECLAIM;

    private static final StatTag[] BY_TAG = values();

    /** The tag's name as a counter key, e.g. {@code "memfree"}. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The tag with number {@code tag}, or null for a tag this device does not know. */
    public static StatTag of(int tag) {
        return tag >= 0 && tag < BY_TAG.length ? BY_TAG[tag] : null;
    }
}
