package org.jvirtio.transport.pci.internal;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.DeviceActivation;
import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.VringSetupException;
import org.jvirtio.vring.Vrings;

/**
 * One device behind a register-based transport (virtio-pci, virtio-mmio): device status with its
 * state machine, feature negotiation, queue set-up, activation at DRIVER_OK, DEVICE_NEEDS_RESET, reset,
 * and the kick workers that run the device off the register thread. Transport-neutral: the transport
 * decodes registers into these calls and delivers {@link InterruptSink} interrupts its own way.
 *
 * <p>Threads: every method except {@link #notifier()}'s and the kick workers' is called by the one
 * register thread (the VMM's proxy). Workers serve queues under each queue's serve lock; the register
 * thread takes that lock only to plug or pull a ring, after pausing the queue so the device returns.
 */
public final class DeviceLifecycle {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.pci");

    private final String name;
    private final VirtioDevice device;
    private final GuestMemory memory;
    private final Faults faults;
    private final InterruptSink sink;
    private final FeatureWindows features;
    private final QueueSetup[] setups;
    private final QueuePlug[] plugs;
    /** Queues handed to the device at activation: only these can be plugged again after a queue reset. */
    private final boolean[] handedOut;
    private final Notifier notifier = new Notifier();
    private final Activation activation = new Activation();
    private final AtomicBoolean needsReset = new AtomicBoolean();
    private final AtomicInteger generation = new AtomicInteger();
    /** Serializes configuration access with queue service for a device that does not serve concurrently. */
    private final Object deviceLock = new Object();
    private final boolean concurrent;

    private int driverStatus;
    private volatile boolean active;
    /** activate() was called since the last reset (it may have failed half-way): reset the device. */
    private boolean activationTried;
    private KickWorker[] workers = new KickWorker[0];
    /** The worker of each queue while active, else null (read and written by the register thread). */
    private final KickWorker[] workerOf;

    /** @param offered the features the transport offers (the device's, masked by what the transport supports) */
    public DeviceLifecycle(String name, VirtioDevice device, long offered, GuestMemory memory, Faults faults,
            InterruptSink sink) {
        this.name = name;
        this.device = device;
        this.memory = memory;
        this.faults = faults;
        this.sink = sink;
        this.features = new FeatureWindows(offered);
        this.concurrent = device.servesQueuesConcurrently();
        int n = device.queueCount();
        this.setups = new QueueSetup[n];
        this.plugs = new QueuePlug[n];
        this.handedOut = new boolean[n];
        this.workerOf = new KickWorker[n];
        for (int q = 0; q < n; q++) {
            setups[q] = new QueueSetup(q, Math.min(device.queueMaxSize(q), Vrings.MAX_QUEUE_SIZE));
            plugs[q] = new QueuePlug(concurrent ? new Object() : deviceLock);
        }
    }

    public String name() {
        return name;
    }

    public VirtioDevice device() {
        return device;
    }

    public Faults faults() {
        return faults;
    }

    public FeatureWindows features() {
        return features;
    }

    public int queueCount() {
        return setups.length;
    }

    /** Queue {@code index}'s set-up, or null if the device has no such queue. */
    public QueueSetup queue(int index) {
        return index >= 0 && index < setups.length ? setups[index] : null;
    }

    /** The status the driver reads: what it wrote (as accepted) plus DEVICE_NEEDS_RESET. */
    public int status() {
        return driverStatus | (needsReset.get() ? DeviceStatus.DEVICE_NEEDS_RESET : 0);
    }

    public boolean featuresOk() {
        return (driverStatus & DeviceStatus.FEATURES_OK) != 0;
    }

    public boolean isActive() {
        return active;
    }

    public boolean needsReset() {
        return needsReset.get();
    }

    /** Whether the negotiated ring format is packed (meaningful once FEATURES_OK is set). */
    public boolean packed() {
        return VirtioFeature.has(features.accepted(), VirtioFeature.RING_PACKED);
    }

    /** The configuration generation, bumped on every configuration change the driver must re-read. */
    public int generation() {
        return generation.get();
    }

    public DriverNotifier notifier() {
        return notifier;
    }

    // ------------------------------------------------------------------ status

    /** The driver wrote {@code value} to device_status. */
    public void writeStatus(int value) {
        int v = value & 0xFF;
        if (v == 0) {
            reset();
            return;
        }
        if (!DeviceStatus.isValidTransition(driverStatus, v)) {
            faults.record(Fault.INVALID_STATUS, DeviceStatus.describe(driverStatus) + " -> " + DeviceStatus.describe(v));
            return;
        }
        v &= ~DeviceStatus.DEVICE_NEEDS_RESET;
        int added = v & ~driverStatus;
        if ((added & DeviceStatus.FEATURES_OK) != 0) {
            String problem = features.problem();
            if (problem != null) {
                // the driver re-reads the status and finds FEATURES_OK clear: it gives up on the device
                faults.record(Fault.FEATURES_REJECTED, problem);
                v &= ~(DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK);
                added &= ~(DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK);
            }
        }
        driverStatus = v;
        if ((added & DeviceStatus.DRIVER_OK) != 0) {
            start();
        }
    }

    /** DRIVER_OK: build the enabled queues' rings from the memory map in force, activate, start workers. */
    private void start() {
        if (needsReset.get()) {
            return;
        }
        long negotiated = features.accepted();
        DeviceVring[] rings = new DeviceVring[setups.length];
        for (QueueSetup s : setups) {
            if (s.enabled()) {
                rings[s.index()] = buildRing(s, negotiated);
                if (rings[s.index()] == null) {
                    return;
                }
            }
        }
        for (int q = 0; q < setups.length; q++) {
            if (rings[q] != null) {
                synchronized (plugs[q].serveLock()) {
                    plugs[q].plug(rings[q]);
                }
                handedOut[q] = true;
            }
        }
        activationTried = true;
        try {
            device.activate(activation);
        } catch (RuntimeException e) {
            faults.record(Fault.ACTIVATION_FAILED, e.toString());
            LOG.log(Level.DEBUG, name + ": activation", e);
            needsReset("activation failed: " + e.getMessage());
            return;
        }
        active = true;
        startWorkers();
        LOG.log(Level.INFO, "{0}: device started, features 0x{1}", name, Long.toHexString(negotiated));
        for (int q = 0; q < setups.length; q++) {
            if (handedOut[q]) {
                kick(q); // buffers made available before DRIVER_OK are served now
            }
        }
    }

    private DeviceVring buildRing(QueueSetup s, long negotiated) {
        try {
            return Vrings.device(s.config().copy(), negotiated, memory);
        } catch (VringSetupException e) {
            faults.record(Fault.QUEUE_SETUP_FAILED, "queue " + s.index() + ": " + e.getMessage());
            needsReset("queue " + s.index() + " cannot be set up: " + e.getMessage());
            return null;
        }
    }

    private void startWorkers() {
        int n = setups.length;
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
            java.util.Arrays.fill(workerOf, one);
        }
        for (KickWorker w : workers) {
            w.start();
        }
    }

    // ------------------------------------------------------------------ queues

    /** The driver wrote 1 to queue_enable of {@code index} (which exists). */
    public void enableQueue(int index) {
        QueueSetup s = setups[index];
        if (s.enabled()) {
            return;
        }
        if (!featuresOk()) {
            faults.record(Fault.QUEUE_ENABLE_INVALID, "queue " + index + " enabled before FEATURES_OK");
            return;
        }
        if (needsReset.get()) {
            return;
        }
        // Checked now, so that a bad address fails at the write that set it up; built again at DRIVER_OK
        // from the memory map in force then.
        DeviceVring ring = buildRing(s, features.accepted());
        if (ring == null) {
            return;
        }
        s.setEnabled(true);
        if (active) {
            if (!handedOut[index]) {
                faults.record(Fault.QUEUE_ENABLE_INVALID, "queue " + index + " enabled after DRIVER_OK");
                return;
            }
            synchronized (plugs[index].serveLock()) {
                plugs[index].plug(ring);
            }
            kick(index);
        }
    }

    /** RING_RESET: the driver wrote 1 to queue_reset of {@code index}: stop it and forget its set-up. */
    public void resetQueue(int index) {
        QueuePlug plug = plugs[index];
        plug.pause();
        synchronized (plug.serveLock()) {
            plug.unplug();
        }
        setups[index].reset();
    }

    /** The driver notified queue {@code index}: handed to the queue's worker, never served here. */
    public void kick(int index) {
        if (index < 0 || index >= setups.length) {
            faults.record(Fault.NOTIFY_UNKNOWN_QUEUE, "queue " + index + " of " + setups.length);
            return;
        }
        KickWorker w = workerOf[index];
        if (w != null) {
            w.kick(index);
        }
    }

    /** On a kick worker: has the device serve queue {@code index}. */
    private void serve(int index) {
        QueuePlug plug = plugs[index];
        String failure = null;
        synchronized (plug.serveLock()) {
            if (!active || !plug.plugged() || plug.paused()) {
                return; // reset or not (yet) enabled: the kick is dropped
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
            needsReset(failure);
        }
    }

    // ------------------------------------------------------------------ configuration space

    public void readConfig(int offset, byte[] dst, int length) {
        if (concurrent || !active) {
            device.readConfig(offset, dst, 0, length);
        } else {
            synchronized (deviceLock) {
                device.readConfig(offset, dst, 0, length);
            }
        }
    }

    public void writeConfig(int offset, byte[] src, int length) {
        if (concurrent || !active) {
            device.writeConfig(offset, src, 0, length);
        } else {
            synchronized (deviceLock) {
                device.writeConfig(offset, src, 0, length);
            }
        }
    }

    // ------------------------------------------------------------------ reset

    /**
     * Sets DEVICE_NEEDS_RESET (once until the next reset), stops serving the queues and raises a
     * configuration interrupt. From any thread; takes no serve lock, so a device may call it while
     * serving.
     */
    public void needsReset(String reason) {
        if (!needsReset.compareAndSet(false, true)) {
            return;
        }
        LOG.log(Level.WARNING, "{0}: device needs reset: {1}", name, reason);
        for (QueuePlug plug : plugs) {
            plug.pause();
        }
        generation.incrementAndGet();
        sink.configInterrupt();
    }

    /** Device reset (status 0, or the VMM reset the function): returns when the queues are stopped. */
    public void reset() {
        for (QueuePlug plug : plugs) {
            plug.pause();
        }
        for (QueuePlug plug : plugs) {
            synchronized (plug.serveLock()) { // waits for a queueNotified in progress to return
                plug.unplug();
            }
        }
        for (KickWorker w : workers) {
            w.stop();
        }
        workers = new KickWorker[0];
        java.util.Arrays.fill(workerOf, null);
        boolean wasActive = active;
        active = false;
        if (wasActive || activationTried) {
            try {
                device.reset();
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, name + ": device reset failed", e);
            }
        }
        activationTried = false;
        driverStatus = 0;
        features.reset();
        for (QueueSetup s : setups) {
            s.reset();
        }
        java.util.Arrays.fill(handedOut, false);
        needsReset.set(false);
        if (wasActive) {
            LOG.log(Level.INFO, "{0}: device reset", name);
        }
    }

    // ------------------------------------------------------------------ device-facing objects

    private final class Activation implements DeviceActivation {
        @Override
        public long negotiatedFeatures() {
            return features.accepted();
        }

        @Override
        public DeviceQueue queue(int index) {
            return index >= 0 && index < plugs.length && handedOut[index] ? plugs[index] : null;
        }

        @Override
        public GuestMemory memory() {
            return memory;
        }

        @Override
        public DriverNotifier notifier() {
            return notifier;
        }
    }

    /** What the device calls, from any thread; nothing reaches the driver unless the device runs. */
    private final class Notifier implements DriverNotifier {
        @Override
        public void notifyUsed(int index) {
            if (active && index >= 0 && index < plugs.length) {
                sink.queueInterrupt(index);
            }
        }

        @Override
        public void notifyConfigChanged() {
            generation.incrementAndGet();
            if (active) {
                sink.configInterrupt();
            }
        }

        @Override
        public void deviceNeedsReset(String reason) {
            faults.record(Fault.DEVICE_NEEDS_RESET, reason);
            needsReset(reason);
        }
    }
}
