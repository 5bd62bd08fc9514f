package org.jvirtio.transport.vhostuser.internal;

import org.jvirtio.nativeio.EventFd;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueCounters;

/**
 * What the front end told the back end about one ring, as plain state (habit 1): size, the three
 * ring addresses in the front end's address space, the base position, its eventfds, and whether it
 * is enabled. {@link #vring} is non-null while the ring is started; the {@link QueueSlot} serves it to
 * the device while it is started, enabled and the device is not waiting for a reset.
 *
 * <p>Guarded by the connection lock; {@link #call} is also read by the device's notifier. The ring's
 * own thread ({@link #worker}) reads {@link #kick} and serves {@link #slot} under {@link #serveLock}, which
 * the message thread also takes (after the connection lock) to change either.
 */
final class VringState {
    final int index;
    final QueueSlot slot;
    /**
     * Held while the device serves this ring; shared by all rings of a device that serves its queues
     * one at a time ({@code VirtioDevice.servesQueuesConcurrently()} false).
     */
    final Object serveLock;
    /** This ring's counters; they belong to the back end and outlive the connection. */
    final QueueCounters counters;
    /** This ring's thread, from its first kick descriptor to the end of the connection. */
    RingWorker worker;

    int num;
    boolean addressSet;
    long descUva;
    long availUva;
    long usedUva;
    /** Split: the avail index; packed: avail position in bits 0-15, used position in bits 16-31. */
    int base;
    boolean enabled;

    EventFd kick;
    /** Distinguishes the current kick descriptor's epoll tag from a replaced one's. */
    int kickGeneration;
    volatile EventFd call;
    EventFd err;

    DeviceVring vring;
    /** In-flight recording for this ring (INFLIGHT_SHMFD), or null. */
    InflightTracker tracking;
    /**
     * Started at a used position another server of the ring left (an earlier back end, a killed one):
     * that server may have published completions and died before it signalled them, so the driver gets
     * an interrupt on every call descriptor this ring gets while started ({@link RingControl#start}).
     */
    boolean resumed;

    /**
     * Started ring kept on the views of a replaced memory table because the device held chains then;
     * rebuilt over the current table once it holds none, before retired regions are unmapped.
     */
    boolean staleViews;

    VringState(int index, Object serveLock, QueueCounters counters) {
        this.index = index;
        this.serveLock = serveLock;
        this.counters = counters;
        this.slot = new QueueSlot(serveLock, counters);
    }

    /** The epoll tag of the current kick descriptor: index in bits 0-7, generation above. */
    int kickTag() {
        return index | (kickGeneration & 0xFFFFFF) << 8;
    }

    static int indexOf(int tag) {
        return tag & 0xFF;
    }

    /** Back to the state of a fresh connection; the caller closed or took the descriptors. */
    void clearConfig() {
        num = 0;
        addressSet = false;
        descUva = 0;
        availUva = 0;
        usedUva = 0;
        base = 0;
        enabled = false;
        vring = null;
        tracking = null;
        staleViews = false;
    }
}
