package org.jvirtio.transport.vhostuser.internal;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.List;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.VringSetupException;
import org.jvirtio.vring.Vrings;

/**
 * Starting, plugging, rebuilding and stopping rings (vhost-user.rst "Ring states"): a ring starts when
 * it gets its kick descriptor, runs while it is also enabled, and stops on GET_VRING_BASE, which
 * returns where it stopped. All under the connection lock.
 */
final class RingControl {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.vhostuser");

    /** A packed ring's first position: index 0, wrap counter 1. */
    private static final int PACKED_FIRST_POSITION = 1 << 15;

    private final Connection c;

    RingControl(Connection connection) {
        this.c = connection;
    }

    long deviceFeatures() {
        return c.ackedFeatures & ~Connection.F_PROTOCOL_FEATURES;
    }

    boolean inOrder() {
        return VirtioFeature.has(deviceFeatures(), VirtioFeature.IN_ORDER);
    }

    boolean packed() {
        return VirtioFeature.has(deviceFeatures(), VirtioFeature.RING_PACKED);
    }

    /** The ring's areas as guest-physical addresses, translated through the current memory table. */
    QueueConfig translate(VringState ring) throws Failure {
        if (ring.num == 0) {
            throw new Failure("ring " + ring.index + " has no size (SET_VRING_NUM)");
        }
        if (!ring.addressSet) {
            throw new Failure("ring " + ring.index + " has no addresses (SET_VRING_ADDR)");
        }
        return new QueueConfig(ring.num, guest(ring, "descriptor", ring.descUva), guest(ring, "available", ring.availUva),
                guest(ring, "used", ring.usedUva));
    }

    private long guest(VringState ring, String what, long uva) throws Failure {
        long gpa = c.table.toGuest(uva, 1);
        if (gpa < 0) {
            throw new Failure("ring " + ring.index + ": " + what + " address 0x" + Long.toHexString(uva)
                    + " is outside every memory region");
        }
        return gpa;
    }

    /**
     * Starts the ring: builds its device side at the base position, or, with INFLIGHT_SHMFD, where
     * in-flight recovery says (queueing the requests still in flight for resubmission), then plugs it
     * if enabled.
     */
    void start(VringState ring) throws Failure {
        QueueConfig config = translate(ring);
        GuestMemory map = c.memory.snapshot();
        int avail = ring.base & 0xFFFF;
        int used;
        if (packed()) {
            used = ring.base >>> 16 != 0 ? ring.base >>> 16 : avail;
        } else {
            long usedIdxAddress = config.deviceArea() + 2;
            if (!map.contains(usedIdxAddress, 2)) {
                throw new Failure("ring " + ring.index + ": used ring outside guest memory");
            }
            used = map.getShort(usedIdxAddress) & 0xFFFF;
        }
        InflightTracker tracking = tracker(ring);
        Recovered recovered = tracking == null ? new Recovered(avail, used, List.of())
                : tracking.recover(map, config, avail, used);
        DeviceVring vring;
        try {
            vring = Vrings.device(config, deviceFeatures(), c.memory, recovered.availPosition(),
                    recovered.usedPosition());
        } catch (VringSetupException e) {
            throw new Failure("ring " + ring.index + " cannot start", e);
        }
        for (Recovered.Resubmission chain : recovered.resubmissions()) {
            if (!chain.resubmitTo(vring)) {
                throw new Failure("ring " + ring.index + ": an in-flight request cannot be resubmitted");
            }
        }
        if (recovered.availPosition() != avail || recovered.usedPosition() != used) {
            LOG.log(Level.INFO, "{0}: ring {1}: resuming where the in-flight area says: avail 0x{2}, used 0x{3} "
                    + "(the front end said avail 0x{4}, used 0x{5})", c.name, ring.index,
                    Integer.toHexString(recovered.availPosition()), Integer.toHexString(recovered.usedPosition()),
                    Integer.toHexString(avail), Integer.toHexString(used));
        }
        if (!recovered.resubmissions().isEmpty()) {
            LOG.log(Level.INFO, "{0}: ring {1}: resubmitting {2} in-flight requests", c.name, ring.index,
                    recovered.resubmissions().size());
        }
        if (tracking != null) {
            tracking.placed(config, c.memory);
        }
        unplug(ring);
        ring.vring = vring;
        ring.tracking = tracking;
        ring.staleViews = false;
        ring.resumed = vring.usedPosition() != (vring.isPacked() ? PACKED_FIRST_POSITION : 0);
        LOG.log(Level.INFO, "{0}: ring {1} started: {2} entries, {3}, avail 0x{4}, used 0x{5}, in-flight tracking {6}",
                c.name, ring.index, ring.num, vring.isPacked() ? "packed" : "split",
                Integer.toHexString(vring.availPosition()), Integer.toHexString(vring.usedPosition()),
                tracking == null ? "off" : "on");
        plugIfRunnable(ring);
        if (ring.call != null) {
            interruptIfResumed(ring);
        }
    }

    /**
     * One interrupt on a resumed ring's current call descriptor. A back end killed between publishing
     * the used index and signalling its call eventfd leaves completions the driver was never told of;
     * the front end, reconnecting, finds nothing left in flight, and a driver that sleeps until it is
     * interrupted (Linux virtio-blk) would wait forever. A spurious interrupt costs the driver one look
     * at the used ring. QEMU sends the guest's call descriptor after the kick descriptor (unmasking it
     * once the device runs), so {@link RingRequests} calls this for a call descriptor that arrives while
     * the ring is started, and {@link #start} for one that came before.
     */
    void interruptIfResumed(VringState ring) {
        if (ring.vring != null && ring.resumed) {
            LOG.log(Level.DEBUG, "{0}: ring {1} resumed at used 0x{2}: interrupting the driver once", c.name,
                    ring.index, Integer.toHexString(ring.vring.usedPosition()));
            c.notifyDriver(ring.index);
        }
    }

    /** A tracker over the ring's region of the in-flight area, or null without one (or a mismatching one). */
    private InflightTracker tracker(VringState ring) {
        InflightArea area = c.inflight;
        if (area == null || ring.index >= area.queueCount()) {
            return null;
        }
        ByteBuffer region = area.region(ring.index);
        if (area.isPacked() != packed() || !InflightArea.fits(region, ring.num)) {
            LOG.log(Level.WARNING, "{0}: in-flight region of ring {1} does not match its size {2} and format; "
                    + "not tracking", c.name, ring.index, ring.num);
            return null;
        }
        return area.isPacked() ? new PackedInflight(region, ring.num) : new SplitInflight(region, ring.num);
    }

    /** Serves the ring to the device if it is started, enabled and the device is not waiting for a reset. */
    void plugIfRunnable(VringState ring) {
        if (ring.vring == null || !ring.enabled || c.needsReset || ring.slot.vring() != null || c.isLeaving()) {
            return;
        }
        if (ring.tracking == null) {
            InflightTracker tracking = tracker(ring);
            if (tracking != null) {
                tracking.attach(ring.vring);
                placeTracker(ring, tracking);
                ring.tracking = tracking;
            }
        }
        c.ensureActive(); // before the ring is served: the device finds its queues ready
        if (c.needsReset) {
            return;
        }
        // The kick after the change (quiesced) serves what the driver queued before the ring ran.
        c.quiescedQuietly(ring, () -> ring.slot.plug(ring.vring, ring.tracking, inOrder()));
    }

    private void placeTracker(VringState ring, InflightTracker tracking) {
        try {
            tracking.placed(translate(ring), c.memory);
        } catch (Failure e) {
            LOG.log(Level.WARNING, "{0}: ring {1}: {2}", c.name, ring.index, e.getMessage());
        }
    }

    /** Takes the ring away from the device (it keeps its state and positions). */
    void unplug(VringState ring) {
        c.quiescedQuietly(ring, ring.slot::unplug);
    }

    /** Stops the ring and records where it stopped in {@code base}. */
    void stop(VringState ring) {
        unplug(ring);
        DeviceVring vring = ring.vring;
        if (vring == null) {
            return;
        }
        if (vring.inFlight() > 0) {
            LOG.log(Level.WARNING, "{0}: ring {1} stops with {2} chains still held by the device", c.name,
                    ring.index, vring.inFlight());
        }
        ring.base = vring.isPacked() ? vring.availPosition() | vring.usedPosition() << 16 : vring.availPosition();
        ring.vring = null;
        ring.tracking = null;
        ring.staleViews = false;
        ring.resumed = false;
    }

    /**
     * After a memory-table or address change: rebuilds each started ring over the current table at its
     * current positions. A ring whose device holds chains keeps its old views (still mapped: the
     * dropped regions stay retired until no ring holds a chain, see {@link Connection#releaseRetired}).
     */
    void rebuildStarted() {
        for (VringState ring : c.rings) {
            if (ring.vring == null) {
                continue;
            }
            if (ring.vring.inFlight() > 0) {
                ring.staleViews = true;
                continue;
            }
            rebuild(ring);
        }
    }

    /**
     * Rebuilds one started ring over the current table at its positions; the device must hold none of
     * its chains. The positions are read while the ring is quiesced, after publishing anything the
     * device completed and left unpublished, so nothing moves under the rebuild and nothing is lost.
     */
    void rebuild(VringState ring) {
        try {
            QueueConfig config = translate(ring);
            c.quiesced(ring, () -> {
                DeviceVring old = ring.vring;
                boolean plugged = ring.slot.vring() != null;
                if (plugged && ring.slot.publishUsed()) {
                    c.notifyDriver(ring.index);
                }
                DeviceVring next;
                try {
                    next = Vrings.device(config, deviceFeatures(), c.memory, old.availPosition(), old.usedPosition());
                } catch (VringSetupException e) {
                    throw new Failure(e.getMessage(), e);
                }
                ring.vring = next;
                ring.staleViews = false;
                if (ring.tracking != null) {
                    ring.tracking.placed(config, c.memory);
                }
                if (plugged) {
                    ring.slot.plug(next, ring.tracking, inOrder());
                }
            });
        } catch (Failure e) {
            stop(ring);
            c.needsReset("ring " + ring.index + " is not valid in the new memory table: " + e.getMessage());
        }
    }

    boolean anyStarted() {
        for (VringState ring : c.rings) {
            if (ring.vring != null) {
                return true;
            }
        }
        return false;
    }
}
