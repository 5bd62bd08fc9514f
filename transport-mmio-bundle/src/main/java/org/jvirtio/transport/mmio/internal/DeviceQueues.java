package org.jvirtio.transport.mmio.internal;

import java.time.Duration;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.transport.core.QueueService;
import org.jvirtio.transport.core.QueueSetup;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.PluggableQueue;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.QueueCounters;
import org.jvirtio.vring.VringSetupException;
import org.jvirtio.vring.Vrings;

/**
 * A device's queues as virtio-mmio keeps them: what the driver set up ({@link QueueSetup}, no size
 * until QueueNum is written), and the shared {@link QueueService} that serves them. MMIO builds a
 * queue's ring when QueueReady is set and plugs it in at once (also before DRIVER_OK), pulls it on
 * QueueReady 0 or QueueReset, and rebuilds every ring when the VMM's memory map changes.
 *
 * <p>Threads: the methods are called under the transport's register lock; the queue workers never take
 * it, so {@link #stop()} may wait for them (at most the hold bound, see {@code QueueService}).
 */
public final class DeviceQueues {

    /** How a queue that cannot go on is reported (DEVICE_NEEDS_RESET); any thread. */
    @FunctionalInterface
    public interface Failure {
        void needsReset(String reason);
    }

    /** How a device that held a queue past the bound is reported; register thread, once per hold. */
    @FunctionalInterface
    public interface Held {
        void deviceHeld(String reason);
    }

    private final QueueSetup[] setups;
    private final QueueService service;

    /**
     * @param name      the device in logs and thread names, e.g. {@code virtio-mmio blk0}
     * @param holdBound how long a register write waits for the device to let go of a queue
     */
    public DeviceQueues(VirtioDevice device, String name, Failure failure, Held held, Duration holdBound) {
        this.service = new QueueService(name, device, (index, reason, byDriver) -> failure.needsReset(reason),
                (index, reason) -> held.deviceHeld(reason), holdBound);
        int count = service.count();
        this.setups = new QueueSetup[count];
        for (int i = 0; i < count; i++) {
            setups[i] = QueueSetup.unsized(i, Math.min(Math.max(0, device.queueMaxSize(i)), Vrings.MAX_QUEUE_SIZE));
        }
    }

    public int count() {
        return setups.length;
    }

    /** Queue {@code index}'s set-up, or null if the device has no such queue. */
    public QueueSetup setup(int index) {
        return index >= 0 && index < setups.length ? setups[index] : null;
    }

    /** Reads device configuration, not overlapping a device that serves its queues one at a time. */
    public void readConfig(int offset, byte[] dst, int length) {
        service.readConfig(offset, dst, length);
    }

    /** Writes device configuration, not overlapping a device that serves its queues one at a time. */
    public void writeConfig(int offset, byte[] src, int length) {
        service.writeConfig(offset, src, length);
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
        service.plug(index, ring);
        return null;
    }

    /** The driver stopped using queue {@code index} (QueueReady 0): the device no longer touches its ring. */
    public void disable(int index) {
        setups[index].setEnabled(false);
        service.unplug(index);
    }

    /** VIRTIO_F_RING_RESET: queue {@code index} back to its state after a device reset. */
    public void resetQueue(int index) {
        boolean wasEnabled = setups[index].enabled();
        setups[index].reset();
        if (wasEnabled) {
            service.unplug(index);
        }
    }

    /**
     * Rebuilds every enabled queue's ring over {@code memory} at its current positions, for a VMM whose
     * memory map changed (the same guest memory now mapped elsewhere in this process): afterwards no
     * ring view points into the old mappings, except on a queue whose device still holds chains taken
     * from it, which keeps its ring until a later call finds it idle. A ring not in the new map is pulled
     * and the device needs a reset.
     *
     * @return how many queues kept their old ring because chains were in flight
     */
    public int remap(long features, GuestMemory memory) {
        int kept = 0;
        for (QueueSetup q : setups) {
            if (!q.enabled()) {
                continue;
            }
            // copied here: the rebuild runs on another thread, which must not read the set-up registers
            QueueConfig config = q.config();
            if (!service.rebuild(q.index(), old -> Vrings.device(config, features, memory, old.availPosition(),
                    old.usedPosition()))) {
                kept++;
            }
        }
        return kept;
    }

    /** What the device gets at DRIVER_OK: the queue of every enabled one, null for the others. */
    public DeviceQueue[] forActivation() {
        DeviceQueue[] queues = new DeviceQueue[setups.length];
        for (int i = 0; i < setups.length; i++) {
            queues[i] = setups[i].enabled() ? service.queue(i) : null;
        }
        return queues;
    }

    /** The device is active: from now on notifications are served. */
    public void start() {
        service.start();
    }

    /** The driver notified queue {@code index} (which exists): counts it and wakes its worker. */
    public void kick(int index) {
        service.queue(index).counters().kicked(); // under the register lock: one writer at a time
        service.kick(index);
    }

    /**
     * Queue {@code index}'s counters, or null if the device has no such queue. They live as long as
     * the transport: a reset does not clear them.
     */
    public QueueCounters counters(int index) {
        PluggableQueue queue = service.queue(index);
        return queue == null ? null : queue.counters();
    }

    /** From now on no queue offers a chain (DEVICE_NEEDS_RESET); any thread. */
    public void pauseAll() {
        service.pauseAll();
    }

    /**
     * Ends the workers, waits until the device serves no queue (at most the hold bound), and pulls
     * every ring; {@link #stopped()} says whether a held device has let go since.
     */
    public void stop() {
        service.stop();
    }

    /** Whether the last {@link #stop()} has completed (the first call that finds so completes it). */
    public boolean stopped() {
        return service.isStopComplete();
    }

    /** False while a held device may still use a ring's views into the old mappings of guest memory. */
    public boolean ringsReleased() {
        return service.ringsReleased();
    }

    /** After the device was reset ({@link #stop()} first): every queue's set-up forgotten. */
    public void clear() {
        for (QueueSetup q : setups) {
            q.reset();
        }
    }
}
