package org.jvirtio.transport.core;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Arrays;

import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.PluggableQueue;
import org.jvirtio.vring.VringSetupException;

/**
 * How a device's queues are served behind a register-based transport: the {@link PluggableQueue} each
 * queue is for the device, the rings plugged into them (only while the device does not serve them), and
 * the {@link KickWorker}s that have the device serve a notified queue off the register thread: one per
 * queue for a device that {@linkplain VirtioDevice#servesQueuesConcurrently() serves queues
 * concurrently} (each queue its own serve lock), else one for the device (one serve lock, which also
 * serializes configuration access with serving). A queue whose ring reports a driver error, or whose
 * device throws, is reported once per serve to the transport's {@link Failure} (DEVICE_NEEDS_RESET).
 *
 * <p>Threads: every method but {@link #pauseAll()} is called by the transport's register thread; the
 * workers never call back into it, so {@link #stop()} may wait for them. The register thread takes a
 * serve lock only to plug or pull a ring, after pausing the queue so that the device returns soon.
 */
public final class QueueService {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.core");

    /** How a queue that cannot go on is reported; called on a worker, outside every serve lock. */
    @FunctionalInterface
    public interface Failure {
        /**
         * @param byDriver true if the driver's ring is at fault (a ring error, a ring outside memory),
         *                 false if the device failed serving it
         */
        void queueFailed(int index, String reason, boolean byDriver);
    }

    /** Makes a queue's ring anew from the one plugged in now (for a changed memory map). */
    @FunctionalInterface
    public interface Rebuild {
        DeviceVring rebuild(DeviceVring current) throws VringSetupException;
    }

    private final String name;
    private final VirtioDevice device;
    private final Failure failure;
    private final boolean concurrent;
    private final Object deviceLock = new Object();
    private final PluggableQueue[] plugs;
    /** The worker of each queue once it was kicked while running, else null (register thread only). */
    private final KickWorker[] workerOf;
    /** Every worker started since {@link #start()}: one per queue, or one (at index 0) for all. */
    private final KickWorker[] workers;
    /**
     * Volatile: set by the register thread, read by the workers; a worker that finds it false after a
     * stop drops the kick instead of serving a device that is being reset.
     */
    private volatile boolean running;
    /**
     * Volatile: set by {@link #pauseAll()} from any thread (DEVICE_NEEDS_RESET), read by the register
     * thread, which then leaves every queue paused after a change, until {@link #stop()}.
     */
    private volatile boolean halted;

    /** @param name the device in logs and thread names, e.g. {@code virtio-mmio blk0} */
    public QueueService(String name, VirtioDevice device, Failure failure) {
        this.name = name;
        this.device = device;
        this.failure = failure;
        this.concurrent = device.servesQueuesConcurrently();
        int n = Math.max(0, device.queueCount());
        this.plugs = new PluggableQueue[n];
        this.workerOf = new KickWorker[n];
        this.workers = new KickWorker[concurrent ? n : 1];
        for (int q = 0; q < n; q++) {
            plugs[q] = new PluggableQueue(concurrent ? new Object() : deviceLock);
        }
    }

    public int count() {
        return plugs.length;
    }

    /** The queue the device serves as {@code index} (stable across rings), or null if there is none. */
    public PluggableQueue queue(int index) {
        return index >= 0 && index < plugs.length ? plugs[index] : null;
    }

    public boolean isRunning() {
        return running;
    }

    /**
     * Serves queue {@code index} (which exists) from {@code ring} on: plugged in once the device has
     * left the queue; then the queue's worker, if running, looks at it.
     */
    public void plug(int index, DeviceVring ring) {
        change(index, ring);
    }

    /** Pulls queue {@code index}'s ring once the device has left it; the queue then looks empty. */
    public void unplug(int index) {
        change(index, null);
    }

    /**
     * Replaces queue {@code index}'s ring by what {@code how} makes of it, while the device does not
     * serve it, unless the device still holds chains taken from it. A ring that cannot be made anew is
     * pulled (its old views must not be used either) and reported as the driver's failure.
     *
     * @return false if the old ring was kept because chains are in flight
     */
    public boolean rebuild(int index, Rebuild how) {
        PluggableQueue plug = plugs[index];
        String problem = null;
        boolean kept = false;
        plug.pause();
        synchronized (plug.serveLock()) {
            DeviceVring old = plug.vring();
            if (old != null && old.inFlight() > 0) {
                kept = true;
            } else if (old != null) {
                try {
                    plug.plug(how.rebuild(old));
                } catch (VringSetupException | RuntimeException e) {
                    plug.unplug();
                    problem = "queue " + index + " cannot be rebuilt: " + e.getMessage();
                }
            }
        }
        resume(index);
        if (problem != null) {
            failure.queueFailed(index, problem, true);
        }
        return !kept;
    }

    /** Every queue offers nothing from now on (DEVICE_NEEDS_RESET); any thread, takes no lock. */
    public void pauseAll() {
        halted = true;
        for (PluggableQueue plug : plugs) {
            plug.pause();
        }
    }

    /**
     * After activation: kicks from now on are served. A queue's worker starts at its first kick (the one
     * worker of a device that serves one queue at a time, at the first kick of any), so a queue the
     * driver never uses costs no thread.
     */
    public void start() {
        running = true;
    }

    /**
     * Device reset: stops the workers, waits for a serve in progress to return, and pulls every ring;
     * afterwards the queues are empty and no longer paused.
     */
    public void stop() {
        pauseAll();
        running = false;
        for (KickWorker w : workers) {
            if (w != null) {
                w.stop();
            }
        }
        Arrays.fill(workers, null);
        Arrays.fill(workerOf, null);
        // one after another, never nested: a device serving one queue may wait for another's lock
        for (PluggableQueue plug : plugs) {
            synchronized (plug.serveLock()) {
                plug.unplug();
            }
        }
        halted = false;
        for (PluggableQueue plug : plugs) {
            plug.resume();
        }
    }

    /**
     * The driver notified queue {@code index}: handed to its worker (if running), never served on this
     * thread.
     *
     * @return false if the device has no such queue
     */
    public boolean kick(int index) {
        if (index < 0 || index >= plugs.length) {
            return false;
        }
        KickWorker w = workerOf[index];
        if (w == null) {
            if (!running) {
                return true; // not active (yet): nothing to serve
            }
            w = startWorker(index);
        }
        w.kick(index);
        return true;
    }

    /** Starts the worker that serves queue {@code index}: its own, or the device's one. */
    private KickWorker startWorker(int index) {
        int n = plugs.length;
        KickWorker w;
        if (concurrent) {
            w = new KickWorker(name + " queue " + index, new int[] {index}, n, this::serve);
            workers[index] = w;
            workerOf[index] = w;
        } else {
            int[] all = new int[n];
            for (int q = 0; q < n; q++) {
                all[q] = q;
            }
            w = new KickWorker(name + " queues", all, n, this::serve);
            workers[0] = w;
            Arrays.fill(workerOf, w);
        }
        w.start();
        return w;
    }

    /** Reads device configuration, not overlapping a device that serves its queues one at a time. */
    public void readConfig(int offset, byte[] dst, int length) {
        if (concurrent) {
            device.readConfig(offset, dst, 0, length);
        } else {
            synchronized (deviceLock) {
                device.readConfig(offset, dst, 0, length);
            }
        }
    }

    /** Writes device configuration, not overlapping a device that serves its queues one at a time. */
    public void writeConfig(int offset, byte[] src, int length) {
        if (concurrent) {
            device.writeConfig(offset, src, 0, length);
        } else {
            synchronized (deviceLock) {
                device.writeConfig(offset, src, 0, length);
            }
        }
    }

    /** Puts {@code ring} (or none) behind queue {@code index} once the device has left it. */
    private void change(int index, DeviceVring ring) {
        PluggableQueue plug = plugs[index];
        plug.pause(); // the device's loop finds nothing and returns, so the serve lock is free soon
        synchronized (plug.serveLock()) {
            if (ring == null) {
                plug.unplug();
            } else {
                plug.plug(ring);
            }
        }
        resume(index);
    }

    /**
     * Ends a pause made for a change, unless the device needs a reset: the device's loop may have gone
     * to sleep during it while the ring held buffers the driver will not notify again (it was asked to
     * notify only for new ones), so its worker looks now.
     */
    private void resume(int index) {
        if (halted) {
            return;
        }
        plugs[index].resume();
        if (halted) {
            // pauseAll ran on another thread between the check above and the resume, which undid its
            // pause of this queue: pause again (halted is written before the pauses, so this sees it)
            plugs[index].pause();
            return;
        }
        KickWorker w = workerOf[index];
        if (w != null) {
            w.kick(index);
        }
    }

    /** On a worker: has the device serve queue {@code index}; a broken ring means DEVICE_NEEDS_RESET. */
    private void serve(int index) {
        PluggableQueue plug = plugs[index];
        String broken = null;
        boolean byDriver = false;
        synchronized (plug.serveLock()) {
            if (!running || plug.vring() == null || plug.isPaused()) {
                return; // stopped, needing reset, or not (yet) enabled: the kick is dropped
            }
            try {
                device.queueNotified(index);
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, name + ": device failed serving queue " + index, e);
                broken = "device failed serving queue " + index + ": " + e;
            }
            QueueError error = plug.error();
            if (broken == null && error != QueueError.NONE) {
                broken = "queue " + index + ": " + error.description();
                byDriver = true;
            }
        }
        if (broken != null) {
            failure.queueFailed(index, broken, byDriver);
        }
    }
}
