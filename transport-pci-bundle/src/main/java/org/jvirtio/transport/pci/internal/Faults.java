package org.jvirtio.transport.pci.internal;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The fault counters of one function, and their log. A driver that repeats a mistake in a loop must
 * not flood the log: each fault is logged on its first occurrences and then at every power of two.
 * Counted from the proxy thread and the queue workers alike, so atomically.
 */
public final class Faults {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.pci");
    private static final long LOG_ALWAYS = 8;

    private final String name;
    private final AtomicLongArray counts = new AtomicLongArray(Fault.values().length);

    public Faults(String name) {
        this.name = name;
    }

    /** Counts {@code fault} and logs it with {@code detail} (unless it is repeating often). */
    public void record(Fault fault, String detail) {
        long n = counts.incrementAndGet(fault.ordinal());
        if (n <= LOG_ALWAYS || Long.bitCount(n) == 1) {
            LOG.log(Level.WARNING, "{0}: {1} ({2}, #{3}): {4}", name, fault.description(), fault.counterName(),
                    Long.toString(n), detail);
        }
    }

    public long count(Fault fault) {
        return counts.get(fault.ordinal());
    }

    /** Every counter by name, zeros included, in declaration order. */
    public Map<String, Long> snapshot() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (Fault f : Fault.values()) {
            out.put(f.counterName(), counts.get(f.ordinal()));
        }
        return out;
    }

    public String name() {
        return name;
    }
}
