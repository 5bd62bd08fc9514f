package org.jvirtio.transport.pci.proxy.internal;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one proxied function's connection saw: messages served, and every kind of refusal, so that a
 * misbehaving peer or guest shows up in numbers as well as in the log. Incremented without allocation.
 */
public final class ProxyCounters {
    final AtomicLong messages = new AtomicLong();
    /** Malformed messages (wrong payload size, wrong descriptor count, unknown command) dropped. */
    final AtomicLong refused = new AtomicLong();
    /** Config accesses outside the 256 bytes or of an odd length: read all-ones, write ignored. */
    final AtomicLong configOutOfRange = new AtomicLong();
    /** BAR accesses that hit no enabled BAR of the function, or of an odd size. */
    final AtomicLong barUnmatched = new AtomicLong();
    final AtomicLong memorySyncs = new AtomicLong();
    final AtomicLong memorySyncsRefused = new AtomicLong();
    final AtomicLong filesMapped = new AtomicLong();
    final AtomicLong filesRetired = new AtomicLong();
    final AtomicLong resets = new AtomicLong();
    /** SET_IRQFD messages accepted (each replaces the previous pair). */
    final AtomicLong irqfds = new AtomicLong();
    /** Accesses during which the function threw; answered with all-ones. */
    final AtomicLong functionErrors = new AtomicLong();
    /** Connections ended by a broken stream (not a clean end between messages). */
    final AtomicLong broken = new AtomicLong();

    /** The counters by name, for logs, the shell and tests. */
    public Map<String, Long> snapshot() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("messages", messages.get());
        m.put("refused", refused.get());
        m.put("configOutOfRange", configOutOfRange.get());
        m.put("barUnmatched", barUnmatched.get());
        m.put("memorySyncs", memorySyncs.get());
        m.put("memorySyncsRefused", memorySyncsRefused.get());
        m.put("filesMapped", filesMapped.get());
        m.put("filesRetired", filesRetired.get());
        m.put("resets", resets.get());
        m.put("irqfds", irqfds.get());
        m.put("functionErrors", functionErrors.get());
        m.put("broken", broken.get());
        return m;
    }

    @Override
    public String toString() {
        return snapshot().toString();
    }
}
