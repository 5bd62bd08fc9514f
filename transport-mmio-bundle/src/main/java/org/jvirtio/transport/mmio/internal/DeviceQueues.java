package org.jvirtio.transport.mmio.internal;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;

import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.transport.core.KickWorker;
import org.jvirtio.transport.core.QueueSetup;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.PluggableQueue;
import org.jvirtio.vring.VringSetupException;
import org.jvirtio.vring.Vrings;

/**
 * A device's queues as a register-based transport (virtio-mmio, virtio-pci) keeps them: what the driver
 * set up ({@link QueueSetup}), the stable {@link PluggableQueue} the device serves, and a thread per queue
 * that has the device serve it when notified. Rings are built when a queue is enabled and plugged in
 * and out only while the device does not serve them. Transport-neutral: no register offsets.
 *
 * <p>Threads: the methods are called under the transport's register lock; the queue threads never
 * take it, so {@link #stop()} may wait for them. A queue shares one serve lock with the others unless
 * the device {@linkplain VirtioDevice#servesQueuesConcurrently() serves them concurrently}.
 */
public final class DeviceQueues {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.mmio");

    /** How a queue thread reports a device that cannot go on (DEVICE_NEEDS_RESET); any thread. */
    @FunctionalInterface
    public interface Failure {
        void needsReset(String reason);
    }

    private final VirtioDevice device;
    private final String name;
    private final Failure failure;
    private final boolean concurrent;
    private final Object deviceLock = new Object();
    private final QueueSetup[] setups;
    private final PluggableQueue[] slots;
    private final KickWorker[] threads;

    /** @param name the device in logs and thread names, e.g. {@code virtio-mmio blk0} */
    public DeviceQueues(VirtioDevice device, String name, Failure failure) {
        this.device = device;
        this.name = name;
        this.failure = failure;
        this.concurrent = device.servesQueuesConcurrently();
        int count = Math.max(0, device.queueCount());
        this.setups = new QueueSetup[count];
        this.slots = new PluggableQueue[count];
        this.threads = new KickWorker[count];
        for (int i = 0; i < count; i++) {
            setups[i] = QueueSetup.unsized(i, Math.min(Math.max(0, device.queueMaxSize(i)), Vrings.MAX_QUEUE_SIZE));
            slots[i] = new PluggableQueue(concurrent ? new Object() : deviceLock);
        }
    }

    public int count() {
        return setups.length;
    }

    /** Queue {@code index}'s set-up, or null if the device has no such queue. */
    public QueueSetup setup(int index) {
        return index >= 0 && index < setups.length ? setups[index] : null;
    }

    /**
     * The lock configuration-space accesses hold so that they do not overlap a device that serves its
     * queues one at a time; null when the device allows them concurrently.
     */
    public Object configLock() {
        return concurrent ? null : deviceLock;
    }

    /**
     * Builds queue {@code index}'s ring from its set-up over {@code memory} and serves it.
     *
     * @return why the queue cannot be enabled (size, or ring areas outside memory or misaligned), or null
     */
    public String enable(int index, long features, GuestMemory memory) {
        QueueSetup q = setups[index];
        String problem = q.sizeProblem(q.size(), VirtioFeature.has(features, VirtioFeature.RING_PACKED));
        if (problem != null) {
            return problem;
        }
        DeviceVring ring;
        try {
            ring = Vrings.device(q.config(), features, memory);
        } catch (VringSetupException | RuntimeException e) {
            return e.getMessage();
        }
        q.setEnabled(true);
        change(index, ring);
        return null;
    }

    /** The driver stopped using queue {@code index} (QueueReady 0): the device no longer touches its ring. */
    public void disable(int index) {
        setups[index].setEnabled(false);
        change(index, null);
    }

    /** VIRTIO_F_RING_RESET: queue {@code index} back to its state after a device reset. */
    public void resetQueue(int index) {
        boolean wasReady = setups[index].enabled();
        setups[index].reset();
        if (wasReady) {
            change(index, null);
        }
    }

    /**
     * Rebuilds every enabled queue's ring over {@code memory} at its current positions, for a VMM whose
     * memory map changed (the same guest memory now mapped elsewhere in this process): afterwards no
     * ring view points into the old mappings, except on a queue whose device still holds chains taken
     * from it, which keeps its ring until a later call finds it idle.
     *
     * @return how many queues kept their old ring because chains were in flight
     */
    public int remap(long features, GuestMemory memory) {
        int kept = 0;
        for (int i = 0; i < setups.length; i++) {
            if (!setups[i].enabled()) {
                continue;
            }
            PluggableQueue slot = slots[i];
            String problem = null;
            boolean wasPaused = slot.isPaused();
            slot.pause();
            synchronized (slot.serveLock()) {
                DeviceVring old = slot.vring();
                if (old != null && old.inFlight() > 0) {
                    kept++;
                } else if (old != null) {
                    try {
                        slot.plug(Vrings.device(setups[i].config(), features, memory, old.availPosition(),
                                old.usedPosition()));
                    } catch (VringSetupException | RuntimeException e) {
                        slot.unplug(); // not in the new map: the old views must not be used either
                        problem = "queue " + i + " is not in the new memory map: " + e.getMessage();
                    }
                }
            }
            resume(i, wasPaused);
            if (problem != null) {
                failure.needsReset(problem);
            }
        }
        return kept;
    }

    /** What the device gets at DRIVER_OK: the slot of every ready queue, null for the others. */
    public DeviceQueue[] forActivation() {
        DeviceQueue[] queues = new DeviceQueue[setups.length];
        for (int i = 0; i < setups.length; i++) {
            queues[i] = setups[i].enabled() ? slots[i] : null;
        }
        return queues;
    }

    /** The driver notified queue {@code index}: wake its thread (started on the first notify). */
    public void kick(int index) {
        KickWorker thread = threads[index];
        if (thread == null) {
            thread = new KickWorker(name + " queue " + index, new int[] {index}, index + 1, this::serve);
            threads[index] = thread;
            thread.start();
        }
        thread.kick(index);
    }

    /** From now on no queue offers a chain (DEVICE_NEEDS_RESET); any thread. */
    public void pauseAll() {
        for (PluggableQueue slot : slots) {
            slot.pause();
        }
    }

    /** Pauses every queue, ends the queue threads and waits until the device serves none. */
    public void stop() {
        pauseAll();
        for (int i = 0; i < threads.length; i++) {
            KickWorker thread = threads[i];
            if (thread != null) {
                threads[i] = null;
                thread.stop();
            }
        }
        // one after another, never nested: a thread serving one queue may wait for another device's lock
        for (PluggableQueue slot : slots) {
            synchronized (slot.serveLock()) {
                // nothing: a serve in progress has returned once the lock is ours
            }
        }
    }

    /** After the device was reset ({@link #stop()} first): every queue forgotten, rings out, slots open. */
    public void clear() {
        for (int i = 0; i < setups.length; i++) {
            setups[i].reset();
            slots[i].unplug();
            slots[i].resume();
        }
    }

    /**
     * Puts {@code ring} (or none) behind queue {@code index}'s slot while the device does not serve it:
     * the slot is paused so the device's loop returns, then the serve lock waits for it to leave.
     */
    private void change(int index, DeviceVring ring) {
        PluggableQueue slot = slots[index];
        boolean wasPaused = slot.isPaused();
        slot.pause();
        synchronized (slot.serveLock()) {
            if (ring == null) {
                slot.unplug();
            } else {
                slot.plug(ring);
            }
        }
        resume(index, wasPaused);
    }

    /**
     * Ends a pause: the device's loop may have gone to sleep during it while the ring held buffers the
     * driver will not notify again (it was asked to notify only for new ones), so its thread looks now.
     */
    private void resume(int index, boolean wasPaused) {
        if (wasPaused) {
            return;
        }
        slots[index].resume();
        KickWorker thread = threads[index];
        if (thread != null) {
            thread.kick(index);
        }
    }

    /** On queue {@code index}'s thread: has the device serve it; a broken ring means DEVICE_NEEDS_RESET. */
    private void serve(int index) {
        PluggableQueue slot = slots[index];
        String broken = null;
        synchronized (slot.serveLock()) {
            if (slot.vring() == null || slot.isPaused()) {
                return;
            }
            try {
                device.queueNotified(index);
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, name + ": device failed serving queue " + index, e);
                broken = "device failed serving queue " + index + ": " + e;
            }
            QueueError error = slot.error();
            if (broken == null && error != QueueError.NONE) {
                broken = "queue " + index + ": " + error.description();
            }
        }
        if (broken != null) {
            failure.needsReset(broken);
        }
    }
}
