package org.jvirtio.transport.vhostuser.internal;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

import org.jvirtio.api.device.VirtioDevice;

/**
 * Puts another device instance behind a live connection (a new build of the device bundle, another
 * backend) without the front end noticing: the connection, the negotiated features, the memory table
 * and every ring stay; only the object serving the rings changes.
 *
 * <p>The rings are paused (pop finds nothing), each serve lock is taken once so that no
 * {@code queueNotified} is still running, and then the old device finishes what it holds: the
 * connection waits until no ring has a chain in flight (completions still publish on a paused ring).
 * Only then is the old device reset and the new one activated on the same queues, which it finds at
 * the positions where the old one left them. A device that does not let go of its chains in time is
 * not replaced: it resumes as if nothing happened. No chain is dropped or served twice either way.
 *
 * <p>Driver-visible device state that lives in the device object (a MAC address the driver set, a
 * write-cache mode) starts again from the new instance's configuration.
 */
final class DeviceReplacement {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.vhostuser");
    /** Between two looks at the rings while the old device completes what it holds. */
    private static final long DRAIN_POLL_NANOS = 50_000;

    private final Connection c;

    DeviceReplacement(Connection c) {
        this.c = c;
    }

    /**
     * What stops {@code next} from serving this connection's rings in place of the current device, or
     * null if nothing does.
     */
    String incompatibility(VirtioDevice next) {
        VirtioDevice now = c.device;
        if (next.deviceId() != now.deviceId()) {
            return "device id " + next.deviceId() + " is not " + now.deviceId();
        }
        if (next.queueCount() != now.queueCount()) {
            return next.queueCount() + " queues instead of " + now.queueCount();
        }
        if (next.servesQueuesConcurrently() != c.concurrentQueues) {
            return "it serves queues " + (c.concurrentQueues ? "one at a time" : "concurrently")
                    + ", unlike the device the connection was set up for";
        }
        long negotiated = c.activation.negotiatedFeatures();
        long missing = negotiated & ~next.offeredFeatures();
        if (missing != 0) {
            return "it does not offer negotiated features 0x" + Long.toHexString(missing);
        }
        for (VringState ring : c.rings) {
            if (ring.num > next.queueMaxSize(ring.index)) {
                return "queue " + ring.index + " has " + ring.num + " entries, more than its maximum "
                        + next.queueMaxSize(ring.index);
            }
        }
        return null;
    }

    /**
     * Replaces the device; under the connection lock.
     *
     * @return how long the rings were paused (zero if the device was not running)
     * @throws IllegalArgumentException if {@code next} cannot serve these rings
     * @throws IllegalStateException    if the old device still held chains after {@code drain}, or
     *                                  {@code next} refused to start (the old device then runs on)
     */
    Duration replace(VirtioDevice next, Duration drain) {
        String why = incompatibility(next);
        if (why != null) {
            throw new IllegalArgumentException("cannot replace the device of " + c.name + ": " + why);
        }
        if (!c.active || c.needsReset) {
            c.device = next; // nothing runs: the next activation starts the new device
            return Duration.ZERO;
        }
        long start = System.nanoTime();
        for (VringState ring : c.rings) {
            ring.slot.pause();
        }
        try {
            for (VringState ring : c.rings) {
                synchronized (ring.serveLock) {
                    // nothing: a queueNotified in progress has returned once the lock is ours
                }
            }
            awaitDrained(start + drain.toNanos());
            swap(next);
        } finally {
            for (VringState ring : c.rings) {
                ring.slot.resume();
                c.kickSelf(ring);
            }
        }
        Duration paused = Duration.ofNanos(System.nanoTime() - start);
        // the number as a string: MessageFormat would group its digits by locale ("51,121 us")
        LOG.log(Level.INFO, "{0}: device replaced, rings paused for {1} us", c.name,
                Long.toString(paused.toNanos() / 1000));
        return paused;
    }

    /** Waits until the device holds no chain of any ring. */
    private void awaitDrained(long deadline) {
        for (;;) {
            int held = heldChains();
            if (held == 0) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("cannot replace the device of " + c.name + ": it still holds "
                        + held + " chain(s); it keeps running");
            }
            LockSupport.parkNanos(DRAIN_POLL_NANOS);
        }
    }

    private int heldChains() {
        int held = 0;
        for (VringState ring : c.rings) {
            held += ring.slot.inFlight();
        }
        return held;
    }

    private void swap(VirtioDevice next) {
        VirtioDevice old = c.device;
        try {
            old.reset();
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, c.name + ": the replaced device failed to reset", e);
        }
        c.device = next;
        try {
            next.activate(c.activation);
        } catch (RuntimeException e) {
            c.device = old;
            LOG.log(Level.ERROR, c.name + ": the new device failed to start; the old one resumes", e);
            try {
                old.activate(c.activation);
            } catch (RuntimeException again) {
                LOG.log(Level.ERROR, c.name + ": the old device failed to start again", again);
                c.needsReset("no device could start after a replacement: " + again.getMessage());
            }
            throw new IllegalStateException("cannot replace the device of " + c.name + ": it failed to start: "
                    + e.getMessage(), e);
        }
    }
}
