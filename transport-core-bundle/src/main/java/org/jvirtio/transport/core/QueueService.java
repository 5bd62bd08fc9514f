package org.jvirtio.transport.core;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

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
 * <p><b>Counters.</b> Each queue's {@link PluggableQueue#counters()} count chains, completions, bytes and
 * suppressed notifications as the device serves it, and here each failure reported for it (a ring
 * error, the device throwing while serving it, a ring that cannot be rebuilt; a device held past the
 * bound is the transport's to count). The transport counts the driver's kicks and the interrupts it
 * delivers on the same counters. They belong to the queue, not to an activation: a reset does not clear
 * them.
 *
 * <p>Threads: every method but {@link #pauseAll()} is called by the transport's register thread; the
 * workers never call back into it. The register thread changes a ring only holding the queue's serve
 * lock, after pausing the queue so that the device returns soon.
 *
 * <p><b>A device that does not return.</b> The register thread serves every device of its VMM
 * connection, so it never waits for a serve lock without bound: a serve lock is a plain monitor, so the
 * change runs on a {@link LockHandoff} thread and the register thread waits for it at most the
 * <em>hold bound</em> (a constructor parameter, {@link #DEFAULT_HOLD_BOUND} by default). A device still
 * inside {@code queueNotified} (or one of its threads still holding the lock) after that is <em>held</em>:
 * <ul>
 * <li>the change that waited is abandoned (it will not run late: a ring plugged after the fact would be
 * a ring the driver has since replaced), every queue is paused, and every ring is pulled from its queue
 * at once, without the lock: a device returning later finds no ring and publishes nothing. Only a call
 * that is inside a ring operation at that very instant still finishes it on the old ring; after a bound
 * of seconds the device is blocked somewhere else, so in practice the stale call writes nothing.</li>
 * <li>a release starts on a handoff thread: it takes every serve lock in turn (as soon as the device lets
 * go) and pulls the rings again, under the lock this time. Until it has done so, no ring is plugged
 * ({@link #plug} is ignored), a memory remap keeps the old mappings ({@link #rebuild} returns false,
 * {@link #ringsReleased()} says so) and a reset does not complete: {@link #stop()} returns after the
 * bound and {@link #isStopComplete()} stays false. The transport shows this as a status that is not 0
 * (DEVICE_NEEDS_RESET, see {@code StatusMachine}), so a driver that waits for 0 after writing it, as
 * virtio-pci's driver must (spec 4.1.4.3.2), cannot set up new rings, and the device is not reset
 * ({@code VirtioDevice.reset()} would race its own stuck call), until the stuck call has returned.
 * This is what keeps a stuck call's late return out of rings the driver set up again: they cannot
 * exist before it returned.</li>
 * <li>the transport hears of it once, through {@link Stall} on the register thread (to count it and set
 * DEVICE_NEEDS_RESET with a configuration interrupt), and it is logged once here.</li>
 * </ul>
 * Every other device on the register thread waits at most the bound once, not forever.
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

    /**
     * How a held device is reported: the register thread, once per hold, after the change that waited
     * was abandoned and the rings pulled (see the class comment).
     *
     * @since 1.1
     */
    @FunctionalInterface
    public interface Stall {
        /** @param index the queue whose serve lock the device held (the first one found held) */
        void deviceHeld(int index, String reason);
    }

    /**
     * How long the register thread waits for a device to let go of a queue before it goes on without it:
     * long enough for a device that is merely slow (a serve blocked on slow storage) not to be taken for
     * a stuck one.
     *
     * @since 1.1
     */
    public static final Duration DEFAULT_HOLD_BOUND = Duration.ofSeconds(10);

    private final String name;
    private final VirtioDevice device;
    private final Failure failure;
    private final Stall stall;
    private final long boundNanos;
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
    /**
     * The pull of every ring after the device held a queue past the bound, or the pull a {@link #stop()}
     * started; null when no pull is under way or unsettled (register thread only).
     */
    private Release release;
    /** The hold was reported (once per hold; register thread only). */
    private boolean holdReported;
    /** A {@link #stop()} has not completed yet (register thread only). */
    private boolean stopping;
    /**
     * Volatile: bumped by the register thread at each {@link #stop()}, read by the workers: a serve
     * that outlived a stop (a held device returning late) reports no failure to the device's next
     * activation.
     */
    private volatile int stops;

    /**
     * A service that waits {@link #DEFAULT_HOLD_BOUND} for a device to let go of a queue and reports a
     * held one to {@code failure} as the device's failure.
     *
     * @param name the device in logs and thread names, e.g. {@code virtio-mmio blk0}
     */
    public QueueService(String name, VirtioDevice device, Failure failure) {
        this(name, device, failure, (index, reason) -> failure.queueFailed(index, reason, false), DEFAULT_HOLD_BOUND);
    }

    /**
     * @param name      the device in logs and thread names, e.g. {@code virtio-mmio blk0}
     * @param stall     told once when the device holds a queue past {@code holdBound}
     * @param holdBound how long the register thread waits for the device to let go of a queue
     * @since 1.1
     */
    public QueueService(String name, VirtioDevice device, Failure failure, Stall stall, Duration holdBound) {
        if (holdBound.isNegative()) {
            throw new IllegalArgumentException("negative hold bound: " + holdBound);
        }
        this.name = name;
        this.device = device;
        this.failure = failure;
        this.stall = stall;
        this.boundNanos = holdBound.toNanos();
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
     * left the queue; then the queue's worker, if running, looks at it. Ignored while the device is held
     * (see the class comment): it needs a reset, and none completes before it let go.
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
     * @return false if the old ring was kept because chains are in flight, or because the device is
     *         held (it may still read through the old views; the old mappings must stay)
     */
    public boolean rebuild(int index, Rebuild how) {
        if (release != null) {
            // a held device may still read through the old views until it lets go
            return false;
        }
        PluggableQueue plug = plugs[index];
        String[] problem = new String[1];
        boolean[] kept = new boolean[1];
        plug.pause();
        LockHandoff.Change late = LockHandoff.run(plug.serveLock(), () -> {
            DeviceVring old = plug.vring();
            if (old != null && old.inFlight() > 0) {
                kept[0] = true;
            } else if (old != null) {
                try {
                    plug.plug(how.rebuild(old));
                } catch (VringSetupException | RuntimeException e) {
                    plug.unplug();
                    problem[0] = "queue " + index + " cannot be rebuilt: " + e.getMessage();
                }
            }
        }, deadline());
        if (late != null) {
            held(index, late, "moving its ring to a new memory map");
            return false;
        }
        resume(index);
        if (problem[0] != null) {
            plug.counters().failed();
            failure.queueFailed(index, problem[0], true);
        }
        return !kept[0];
    }

    /**
     * Whether no held device can still use a ring's old views: false from a hold until the device let
     * go of every queue (a VMM must keep the old mappings of guest memory meanwhile).
     *
     * @since 1.1
     */
    public boolean ringsReleased() {
        return release == null || release.isDone();
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
     * afterwards the queues are empty and no longer paused. Waits at most the hold bound: if the device
     * holds a queue longer, it returns with the stop incomplete (the device is reported held, see the
     * class comment) and {@link #isStopComplete()} says when the device has let go.
     */
    public void stop() {
        pauseAll();
        running = false;
        stopping = true;
        stops++; // only the register thread writes it
        // a device already found held is not waited for again: the register thread waits once per hold
        long deadline = holdReported ? System.nanoTime() : deadline();
        for (KickWorker w : workers) {
            if (w != null) {
                w.requestStop();
            }
        }
        for (KickWorker w : workers) {
            if (w != null) {
                w.awaitEnd(deadline); // a worker held by its device is left to end on its own
            }
        }
        Arrays.fill(workers, null);
        Arrays.fill(workerOf, null);
        if (release == null) {
            startRelease();
        }
        if (release.await(deadline)) {
            settle();
        } else {
            held(release.waitingAt(), null, "reset");
        }
    }

    /**
     * Whether the last {@link #stop()} has completed (true if none is under way): false while a held
     * device has not let go of every queue. The first call that finds it has completes the stop: the
     * queues are then empty and no longer paused.
     *
     * @since 1.1
     */
    public boolean isStopComplete() {
        if (!stopping) {
            return true;
        }
        if (!release.isDone()) {
            return false;
        }
        settle();
        return true;
    }

    /** The rings are all pulled under their locks: the queues are empty and may serve again. */
    private void settle() {
        release = null;
        holdReported = false;
        stopping = false;
        halted = false;
        for (PluggableQueue plug : plugs) {
            plug.resume();
        }
    }

    private void startRelease() {
        release = new Release(plugs);
        LockHandoff.start(release);
    }

    /**
     * The device held queue {@code index} past the bound while the register thread was {@code doing}:
     * abandons the change that waited, pauses every queue, pulls every ring now (without the lock, see
     * the class comment) and again under the locks once the device lets go; logs and reports it once.
     */
    private void held(int index, LockHandoff.Change abandoned, String doing) {
        if (abandoned != null) {
            abandoned.abandon(); // before the release starts: see LockHandoff.Change#abandoned
        }
        pauseAll();
        if (release == null) {
            startRelease();
        }
        if (holdReported) {
            return;
        }
        holdReported = true;
        for (PluggableQueue plug : plugs) {
            plug.unplug();
        }
        String reason = "device still serving queue " + index + " after "
                + TimeUnit.NANOSECONDS.toMillis(boundNanos) + " ms (" + doing
                + "): its rings are pulled and nothing is plugged or reset until it returns";
        LOG.log(Level.ERROR, "{0}: {1}", name, reason);
        stall.deviceHeld(index, reason);
    }

    private long deadline() {
        return System.nanoTime() + boundNanos;
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
        } else if (release != null) {
            Arrays.fill(dst, 0, length, (byte) 0); // a held device may hold the device lock: reads 0
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
        } else if (release == null) { // a held device may hold the device lock: the write is dropped
            synchronized (deviceLock) {
                device.writeConfig(offset, src, 0, length);
            }
        }
    }

    /** Puts {@code ring} (or none) behind queue {@code index} once the device has left it. */
    private void change(int index, DeviceVring ring) {
        PluggableQueue plug = plugs[index];
        plug.pause(); // the device's loop finds nothing and returns, so the serve lock is free soon
        if (release != null) {
            return; // held: every ring is pulled, none goes in before the device let go and was reset
        }
        LockHandoff.Change late = LockHandoff.run(plug.serveLock(), () -> {
            if (ring == null) {
                plug.unplug();
            } else {
                plug.plug(ring);
            }
        }, deadline());
        if (late != null) {
            held(index, late, ring == null ? "pulling its ring" : "plugging a ring");
            return;
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
        int stop = stops;
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
        if (broken == null) {
            return;
        }
        // counted even when a reset overtook this serve (the queue did break), and before the report,
        // so that whoever learns of DEVICE_NEEDS_RESET from it finds the error counted
        plug.counters().failed();
        if (stop == stops) {
            failure.queueFailed(index, broken, byDriver);
        }
    }

    /**
     * Pulls every ring under its serve lock, one lock after another (never nested), on a handoff thread:
     * for as long as a held device keeps a lock, it waits there.
     */
    private static final class Release implements Runnable {
        private final PluggableQueue[] plugs;
        private final CountDownLatch done = new CountDownLatch(1);
        /** The queue whose lock it waits for (for the report); volatile: read by the register thread. */
        private volatile int at;

        Release(PluggableQueue[] plugs) {
            this.plugs = plugs;
        }

        @Override
        public void run() {
            try {
                for (int q = 0; q < plugs.length; q++) {
                    at = q;
                    PluggableQueue plug = plugs[q];
                    synchronized (plug.serveLock()) {
                        plug.unplug();
                    }
                }
            } finally {
                done.countDown();
            }
        }

        int waitingAt() {
            return at;
        }

        boolean isDone() {
            return done.getCount() == 0;
        }

        boolean await(long deadlineNanos) {
            try {
                return done.await(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }
}
