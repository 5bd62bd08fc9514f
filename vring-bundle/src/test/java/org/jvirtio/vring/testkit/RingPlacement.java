package org.jvirtio.vring.testkit;

import org.jvirtio.vring.QueueConfig;

/** Places a ring of either format in test memory, with room for both formats' areas. */
public final class RingPlacement {
    private RingPlacement() {
    }

    /**
     * A config whose areas are allocated in {@code memory}: split rings need 16*n, 6+2n and 6+8n
     * bytes; packed rings need 16*n, 4 and 4; both fit these allocations.
     */
    public static QueueConfig place(TestMemory memory, int size) {
        long desc = memory.allocate(16L * size, 16);
        long driver = memory.allocate(6L + 2L * size, 4);
        long device = memory.allocate(6L + 8L * size, 4);
        return new QueueConfig(size, desc, driver, device);
    }

    /** Room for {@code size} indirect tables of {@code maxIndirect} entries each. */
    public static long indirectArea(TestMemory memory, int size, int maxIndirect) {
        return memory.allocate(16L * size * maxIndirect, 16);
    }
}
