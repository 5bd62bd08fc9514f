package org.jvirtio.transport.vhostuser.internal;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.nativeio.NativeException;
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

    private final Connection c;

    RingControl(Connection connection) {
        this.c = connection;
    }

    long deviceFeatures() {
        return c.ackedFeatures & ~Connection.F_PROTOCOL_FEATURES;
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
     * Starts the ring: builds its device side at the base position (with INFLIGHT_SHMFD on a split
     * ring, first recovering and arranging to resubmit what was in flight), then plugs it if enabled.
     */
    void start(VringState ring) throws Failure {
        QueueConfig config = translate(ring);
        GuestMemory map = c.memory.snapshot();
        boolean packed = packed();
        int avail = ring.base & 0xFFFF;
        int used;
        SplitInflight tracking = null;
        if (packed) {
            used = ring.base >>> 16 != 0 ? ring.base >>> 16 : avail;
        } else {
            long usedIdxAddress = config.deviceArea() + 2;
            if (!map.contains(usedIdxAddress, 2)) {
                throw new Failure("ring " + ring.index + ": used ring outside guest memory");
            }
            used = map.getShort(usedIdxAddress) & 0xFFFF;
            tracking = splitInflight(ring);
            if (tracking != null) {
                avail = resubmitPosition(ring, tracking, config, map, used, avail);
            }
        }
        try {
            ring.vring = Vrings.device(config, deviceFeatures(), c.memory, avail, used);
        } catch (VringSetupException e) {
            throw new Failure("ring " + ring.index + " cannot start", e);
        }
        ring.slot.unplug();
        ring.tracking = tracking;
        plugIfRunnable(ring);
    }

    private SplitInflight splitInflight(VringState ring) {
        InflightArea area = c.inflight;
        if (area == null || ring.index >= area.queueCount()) {
            return null;
        }
        ByteBuffer region = area.region(ring.index);
        if (!SplitInflight.fits(region, ring.num)) {
            LOG.log(Level.WARNING, "{0}: in-flight region of ring {1} does not match its size {2}; not tracking",
                    c.name, ring.index, ring.num);
            return null;
        }
        return new SplitInflight(region, ring.num);
    }

    /**
     * Where the device resumes so that requests still in flight are submitted again. The vring pops
     * only from the available ring, so this works when the in-flight heads are exactly the entries
     * after the used index (completions in order, the common case); then the ring restarts there.
     * Otherwise the requests cannot be resubmitted and the device needs a reset.
     */
    private int resubmitPosition(VringState ring, SplitInflight tracking, QueueConfig config, GuestMemory map,
            int usedIdx, int avail) throws Failure {
        List<Integer> heads = tracking.recover(usedIdx, map, config.deviceArea());
        if (heads.isEmpty()) {
            return avail;
        }
        Set<Integer> pending = new HashSet<>(heads);
        int mask = ring.num - 1;
        for (int k = 0; k < heads.size(); k++) {
            long entry = config.driverArea() + 4 + 2L * ((usedIdx + k) & mask);
            if (!map.contains(entry, 2) || !pending.remove(map.getShort(entry) & 0xFFFF)) {
                throw new Failure("ring " + ring.index + ": " + heads.size()
                        + " in-flight requests were not completed in order; they cannot be resubmitted");
            }
        }
        LOG.log(Level.INFO, "{0}: ring {1}: resubmitting {2} in-flight requests", c.name, ring.index, heads.size());
        return usedIdx;
    }

    /** Serves the ring to the device if it is started, enabled and the device is not waiting for a reset. */
    void plugIfRunnable(VringState ring) {
        if (ring.vring == null || !ring.enabled || c.needsReset || ring.slot.vring() != null) {
            return;
        }
        if (ring.tracking == null && !ring.vring.isPacked()) {
            ring.tracking = splitInflight(ring);
        }
        ring.slot.plug(ring.vring, ring.tracking);
        c.ensureActive();
        kickSelf(ring); // serve what the driver queued before the ring ran
    }

    private void kickSelf(VringState ring) {
        if (ring.kick != null) {
            try {
                ring.kick.signal();
            } catch (NativeException | RuntimeException e) {
                LOG.log(Level.DEBUG, "{0}: self-kick of ring {1}: {2}", c.name, ring.index, e.getMessage());
            }
        }
    }

    /** Stops the ring and records where it stopped in {@code base}. */
    void stop(VringState ring) {
        ring.slot.unplug();
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
    }

    /**
     * After a memory-table or address change: rebuilds each started ring over the current table at its
     * current positions. A ring whose device holds chains keeps its old views (still mapped: the
     * dropped regions stay retired until no ring holds a chain).
     */
    void rebuildStarted() {
        for (VringState ring : c.rings) {
            DeviceVring old = ring.vring;
            if (old == null || old.inFlight() > 0) {
                continue;
            }
            boolean plugged = ring.slot.vring() != null;
            try {
                QueueConfig config = translate(ring);
                DeviceVring next = Vrings.device(config, deviceFeatures(), c.memory, old.availPosition(),
                        old.usedPosition());
                ring.vring = next;
                if (plugged) {
                    ring.slot.unplug();
                    plugIfRunnable(ring);
                }
            } catch (Failure | VringSetupException e) {
                stop(ring);
                c.needsReset("ring " + ring.index + " is not valid in the new memory table: " + e.getMessage());
            }
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
