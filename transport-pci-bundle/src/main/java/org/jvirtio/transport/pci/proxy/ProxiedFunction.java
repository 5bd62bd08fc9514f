package org.jvirtio.transport.pci.proxy;

import java.util.Map;

import org.jvirtio.transport.pci.proxy.internal.ProxyConnection;

/**
 * A function attached to QEMU and served by its own proxy thread until QEMU closes the channel or
 * {@link #close()}. At the end the function is {@link PciFunction#reset() reset} and its view of guest
 * memory unmapped.
 */
public final class ProxiedFunction implements AutoCloseable {
    private final ProxySlot slot;
    private final ProxyConnection connection;
    private final Thread thread;

    ProxiedFunction(ProxySlot slot, ProxyConnection connection, Thread thread) {
        this.slot = slot;
        this.connection = connection;
        this.thread = thread;
    }

    public ProxySlot slot() {
        return slot;
    }

    /** The function the factory built. */
    public PciFunction function() {
        return connection.function();
    }

    /** Whether the channel to QEMU is still served. */
    public boolean isConnected() {
        return !connection.ended();
    }

    /**
     * Counters of the channel: messages, refused (malformed messages), configOutOfRange, barUnmatched,
     * memorySyncs, memorySyncsRefused, filesMapped, filesRetired, resets, irqfds, functionErrors, broken.
     */
    public Map<String, Long> counters() {
        return connection.counters().snapshot();
    }

    /** Ends the channel and waits (up to 10 s) for the proxy thread to release everything. */
    @Override
    public void close() {
        connection.close();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "ProxiedFunction[" + slot.id() + " @ slot " + slot.slot() + (isConnected() ? "" : ", ended") + "]";
    }
}
