package org.jvirtio.transport.pci.proxy.internal;

/**
 * Payload of SYNC_SYSMEM ({@code SyncSysmemMsg}), little-endian: three arrays of eight 64-bit
 * entries; entry {@code i} describes the region backed by the {@code i}-th descriptor, and entries
 * past the descriptor count are unused.
 * <pre>
 *  0              64              128             192
 *  +--------------+---------------+---------------+
 *  | gpas[8] u64  | sizes[8] u64  | offsets[8] i64 |
 *  +--------------+---------------+---------------+
 * </pre>
 */
final class SysmemLayout {
    static final int MAX_REGIONS = 8;
    static final int SIZE = 3 * 8 * MAX_REGIONS;

    private SysmemLayout() {
    }

    static int guestAddress(int region) {
        return 8 * region;
    }

    static int size(int region) {
        return 64 + 8 * region;
    }

    static int fileOffset(int region) {
        return 128 + 8 * region;
    }
}
