package org.jvirtio.transport.pci.internal;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Arrays;
import java.util.function.Consumer;

import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.transport.core.KickWorker;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.PluggableQueue;

/**
 * How a running device's queues are served: the {@link PluggableQueue} each queue is for the device, the
 * rings plugged into them, and the {@link KickWorker}s that run {@code queueNotified} off the register
 * thread: one per queue for a device that serves queues concurrently (each queue its own serve lock),
 * else one for the device (one serve lock, which also serializes configuration access with serving).
 * Transport-neutral.
 */
public final class QueueService {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.pci");

    private final String name;
    private final VirtioDevice device;
    private final Faults faults;
    /** Told why a queue cannot go on (DEVICE_NEEDS_RESET); called outside every serve lock. */
    private final Consumer<String> failed;
    private final boolean concurrent;
    private final Object deviceLock = new Object();
    private final PluggableQueue[] plugs;
    /** Queues handed to the device at activation: only these can be plugged again after a queue reset. */
    private final boolean[] handedOut;
    /** The worker of each queue while running, else null (register thread only). */
    private final KickWorker[] workerOf;
    private KickWorker[] workers = new KickWorker[0];
    /**
     * Volatile: set by the register thread, read by the workers; a worker that finds it false after a
     * stop drops the kick instead of serving a device that is being reset.
     */
    private volatile boolean running;

    public QueueService(String name, VirtioDevice device, Faults faults, Consumer<String> failed) {
        this.name = name;
        this.device = device;
        this.faults = faults;
        this.failed = failed;
        this.concurrent = device.servesQueuesConcurrently();
        int n = device.queueCount();
        this.plugs = new PluggableQueue[n];
        this.handedOut = new boolean[n];
        this.workerOf = new KickWorker[n];
        for (int q = 0; q < n; q++) {
            plugs[q] = new PluggableQueue(concurrent ? new Object() : deviceLock);
        }
    }

    /** The queue the device gets at activation: its plug if a ring was handed out for it, else null. */
    public DeviceQueue queue(int index) {
        return index >= 0 && index < plugs.length && handedOut[index] ? plugs[index] : null;
    }

    /** Before activation: queue {@code index} runs on {@code ring}. */
    void handOut(int index, DeviceVring ring) {
        plug(index, ring);
        handedOut[index] = true;
    }

    /** Whether {@code index} was handed to the device at activation. */
    boolean handedOut(int index) {
        return handedOut[index];
    }

    /** Plugs {@code ring} into queue {@code index}, waiting for the device to leave it first. */
    void plug(int index, DeviceVring ring) {
        synchronized (plugs[index].serveLock()) {
            plugs[index].plug(ring);
            plugs[index].resume();
        }
    }

    /** Pulls queue {@code index}'s ring once the device has left it (paused first, so it leaves soon). */
    void unplug(int index) {
        PluggableQueue plug = plugs[index];
        plug.pause();
        synchronized (plug.serveLock()) {
            plug.unplug();
        }
    }

    /** Every queue offers nothing from now on (DEVICE_NEEDS_RESET); takes no lock, safe while serving. */
    void pauseAll() {
        for (PluggableQueue plug : plugs) {
            plug.pause();
        }
    }

    /** After activation: start the workers and serve what the driver made available before. */
    void start() {
        int n = plugs.length;
        if (concurrent) {
            workers = new KickWorker[n];
            for (int q = 0; q < n; q++) {
                workers[q] = new KickWorker(name + " queue " + q, new int[] {q}, n, this::serve);
                workerOf[q] = workers[q];
            }
        } else {
            int[] all = new int[n];
            for (int q = 0; q < n; q++) {
                all[q] = q;
            }
            KickWorker one = new KickWorker(name + " queues", all, n, this::serve);
            workers = new KickWorker[] {one};
            Arrays.fill(workerOf, one);
        }
        running = true;
        for (KickWorker w : workers) {
            w.start();
        }
        for (int q = 0; q < n; q++) {
            if (handedOut[q]) {
                kick(q);
            }
        }
    }

    /** Pulls every ring (waiting for the device to leave each) and stops the workers. */
    void stop() {
        pauseAll();
        for (int q = 0; q < plugs.length; q++) {
            unplug(q);
        }
        running = false;
        for (KickWorker w : workers) {
            w.stop();
        }
        workers = new KickWorker[0];
        Arrays.fill(workerOf, null);
        Arrays.fill(handedOut, false);
    }

    /** The driver notified queue {@code index}: handed to its worker, never served on this thread. */
    public void kick(int index) {
        if (index < 0 || index >= plugs.length) {
            faults.record(Fault.NOTIFY_UNKNOWN_QUEUE, "queue " + index + " of " + plugs.length);
            return;
        }
        KickWorker w = workerOf[index];
        if (w != null) {
            w.kick(index);
        }
    }

    /** On a kick worker: has the device serve queue {@code index}. */
    private void serve(int index) {
        PluggableQueue plug = plugs[index];
        String failure = null;
        synchronized (plug.serveLock()) {
            if (!running || plug.vring() == null || plug.isPaused()) {
                return; // stopped, needing reset, or not (yet) enabled: the kick is dropped
            }
            try {
                device.queueNotified(index);
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, name + ": device failed serving queue " + index, e);
                failure = "device failed serving queue " + index + ": " + e;
            }
            QueueError error = plug.error();
            if (failure == null && error != QueueError.NONE) {
                faults.record(Fault.QUEUE_BROKEN, "queue " + index + ": " + error.description());
                failure = "queue " + index + ": " + error.description();
            }
        }
        if (failure != null) {
            failed.accept(failure);
        }
    }

    /**
     * Runs a configuration access: under the device's serve lock while it runs, unless the device
     * serves concurrently (then configuration access may overlap serving, as it declared).
     */
    void configAccess(Runnable access) {
        if (concurrent || !running) {
            access.run();
        } else {
            synchronized (deviceLock) {
                access.run();
            }
        }
    }
}
