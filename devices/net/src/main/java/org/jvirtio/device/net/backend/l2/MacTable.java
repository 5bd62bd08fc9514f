package org.jvirtio.device.net.backend.l2;

/**
 * Where each learned MAC address lives: a fixed-size open-addressing table (linear probing) over
 * primitive arrays, so that learning and looking up allocate nothing. An entry older than the ageing
 * time, or whose port left, no longer answers and its slot is reused; it still counts as occupied while
 * probing, so no other entry is lost behind it. A full table learns nothing more (the switch floods).
 *
 * <p>One monitor guards it: a frame costs one short critical section with no call out of the table.
 */
final class MacTable {
    private final long[] keys;
    private final SwitchPort[] ports;
    private final long[] seen;
    private final int mask;
    private final long ageingNanos;

    /** @param capacity a power of two */
    MacTable(int capacity, long ageingNanos) {
        if (capacity < 2 || Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two: " + capacity);
        }
        this.keys = new long[capacity];
        this.ports = new SwitchPort[capacity];
        this.seen = new long[capacity];
        this.mask = capacity - 1;
        this.ageingNanos = ageingNanos;
    }

    /**
     * Learns that {@code source} is behind {@code port} at {@code now}, then answers where
     * {@code destination} is (or null: unknown, aged out, or its port left).
     *
     * @param destination a unicast address, or -1 to look nothing up
     * @return the destination's port, or null
     */
    synchronized SwitchPort learnAndFind(long source, SwitchPort port, long destination, long now) {
        learn(source, port, now);
        return destination < 0 ? null : find(destination, now);
    }

    /** Entries that still answer at {@code now}. */
    synchronized int size(long now) {
        int n = 0;
        for (int i = 0; i < keys.length; i++) {
            n += keys[i] != 0 && live(i, now) ? 1 : 0;
        }
        return n;
    }

    /** {@code port} left: its entries stop answering at once. */
    synchronized void forget(SwitchPort port) {
        for (int i = 0; i < ports.length; i++) {
            if (ports[i] == port) {
                ports[i] = null;
            }
        }
    }

    private void learn(long mac, SwitchPort port, long now) {
        long key = key(mac);
        int free = -1;
        int i = slot(mac);
        for (int probes = 0; probes < keys.length; probes++, i = (i + 1) & mask) {
            if (keys[i] == key) {
                ports[i] = port;
                seen[i] = now;
                return;
            }
            if (keys[i] == 0) {
                if (free < 0) {
                    free = i;
                }
                break;
            }
            if (free < 0 && !live(i, now)) {
                free = i;
            }
        }
        if (free >= 0) {
            keys[free] = key;
            ports[free] = port;
            seen[free] = now;
        }
    }

    private SwitchPort find(long mac, long now) {
        long key = key(mac);
        int i = slot(mac);
        for (int probes = 0; probes < keys.length && keys[i] != 0; probes++, i = (i + 1) & mask) {
            if (keys[i] == key) {
                return live(i, now) ? ports[i] : null;
            }
        }
        return null;
    }

    private boolean live(int i, long now) {
        return ports[i] != null && now - seen[i] <= ageingNanos;
    }

    /** Non-zero for every 48-bit address, so 0 can mean "never used". */
    private static long key(long mac) {
        return mac | 1L << 48;
    }

    private int slot(long mac) {
        return (int) ((mac * 0x9E37_79B9_7F4A_7C15L) >>> 40) & mask;
    }
}
