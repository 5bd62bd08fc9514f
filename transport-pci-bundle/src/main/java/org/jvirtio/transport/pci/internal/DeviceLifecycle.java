package org.jvirtio.transport.pci.internal;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.DeviceActivation;
import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.management.QueueStatistics;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.transport.core.FeatureWindows;
import org.jvirtio.transport.core.QueueService;
import org.jvirtio.transport.core.QueueSetup;
import org.jvirtio.transport.core.StatusMachine;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.PluggableQueue;
import org.jvirtio.vring.VringSetupException;
import org.jvirtio.vring.Vrings;

/**
 * One device behind the virtio-pci registers: the shared {@link StatusMachine} driven with this
 * transport's steps (activation at DRIVER_OK building rings from the queues' {@link QueueSetup}, reset),
 * feature negotiation ({@link FeatureWindows}), DEVICE_NEEDS_RESET, and each refusal counted as a
 * {@link Fault}; serving the queues is {@link QueueService}'s business. {@link CommonConfig} decodes
 * registers into these calls; interrupts leave through the {@link InterruptSink}.
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
    private final QueueService queues;
    /** Queues handed to the device at activation: only these can be enabled again after a queue reset. */
    private final boolean[] handedOut;
    private final Notifier notifier = new Notifier();
    private final Activation activation = new Activation();
    private final StatusMachine status;
    private final AtomicInteger generation = new AtomicInteger();

    /**
     * Volatile: set by the register thread, read by kick workers and by the device's own threads in
     * {@link Notifier}; a worker that sees it false after a reset drops the kick instead of serving a
     * device that is being reset.
     */
    private volatile boolean active;
    /** activate() was called since the last reset (it may have failed half-way): reset the device. */
    private boolean activationTried;
    /** A reset stopped the device's queues; the device's own reset waits until it let go of them. */
    private boolean deviceResetOwed;

    /** @param offered the features the transport offers (the device's, masked by what the transport supports) */
    public DeviceLifecycle(String name, VirtioDevice device, long offered, GuestMemory memory, Faults faults,
            InterruptSink sink) {
        this(name, device, offered, memory, faults, sink, QueueService.DEFAULT_HOLD_BOUND);
    }

    /**
     * @param offered   the features the transport offers (the device's, masked by what the transport supports)
     * @param holdBound how long a register write waits for the device to let go of a queue
     */
    public DeviceLifecycle(String name, VirtioDevice device, long offered, GuestMemory memory, Faults faults,
            InterruptSink sink, Duration holdBound) {
        this.name = name;
        this.device = device;
        this.memory = memory;
        this.faults = faults;
        this.sink = sink;
        this.features = new FeatureWindows(offered);
        this.status = new StatusMachine(features, new Steps());
        int n = device.queueCount();
        this.setups = new QueueSetup[n];
        for (int q = 0; q < n; q++) {
            setups[q] = QueueSetup.sizedAtMaximum(q, Math.min(device.queueMaxSize(q), Vrings.MAX_QUEUE_SIZE));
        }
        this.handedOut = new boolean[n];
        this.queues = new QueueService(name, device, (index, reason, byDriver) -> {
            if (byDriver) {
                faults.record(Fault.QUEUE_BROKEN, reason);
            }
            needsReset(reason);
        }, (index, reason) -> {
            faults.record(Fault.DEVICE_STUCK, reason);
            needsReset(reason);
        }, holdBound);
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

    /** The status: what the driver wrote (as accepted) plus DEVICE_NEEDS_RESET; any thread. */
    public int status() {
        return status.status();
    }

    /**
     * The status as the driver reads it (register thread): a reset held up by a device that did not
     * let go of a queue completes first if it can now, so that the driver's wait for 0 ends then.
     */
    public int readStatus() {
        return status.read();
    }

    public boolean featuresOk() {
        return status.has(DeviceStatus.FEATURES_OK);
    }

    public boolean isActive() {
        return active;
    }

    public boolean needsReset() {
        return status.needsReset();
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
        int before = status.status();
        switch (status.write(value)) {
            case BAD_TRANSITION:
                faults.record(Fault.INVALID_STATUS, DeviceStatus.describe(before) + " -> "
                        + DeviceStatus.describe(value & 0xFF) + (status.resetPending()
                                ? " (the device has not let go of its queues since the reset)" : ""));
                break;
            case FEATURES_REFUSED:
                // the driver re-reads the status and finds FEATURES_OK clear: it gives up on the device
                faults.record(Fault.FEATURES_REJECTED, status.lastRefusal());
                break;
            default:
                break; // an activation that failed was counted, and the device set to need a reset, by start()
        }
    }

    /** What the status machine does at each step, on the register thread. */
    private final class Steps implements StatusMachine.Steps {
        @Override
        public String activate() {
            return start();
        }

        @Override
        public void reset() {
            stopAndForget();
        }

        @Override
        public boolean resetDone() {
            return finishReset();
        }
    }

    /**
     * DRIVER_OK: build the enabled queues' rings from the memory map in force, activate, start workers.
     *
     * @return why the device did not start, or null
     */
    private String start() {
        if (status.needsReset()) {
            return "the device needs a reset first";
        }
        long negotiated = features.accepted();
        DeviceVring[] rings = new DeviceVring[setups.length];
        for (QueueSetup s : setups) {
            if (s.enabled()) {
                rings[s.index()] = buildRing(s, negotiated);
                if (rings[s.index()] == null) {
                    return "queue " + s.index() + " cannot be set up";
                }
            }
        }
        for (int q = 0; q < setups.length; q++) {
            if (rings[q] != null) {
                queues.plug(q, rings[q]);
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
            return "activation failed: " + e.getMessage();
        }
        active = true;
        LOG.log(Level.INFO, "{0}: device started, features 0x{1}", name, Long.toHexString(negotiated));
        queues.start();
        for (int q = 0; q < setups.length; q++) {
            if (handedOut[q]) {
                queues.kick(q); // serve what the driver made available before DRIVER_OK
            }
        }
        return null;
    }

    private DeviceVring buildRing(QueueSetup s, long negotiated) {
        try {
            return Vrings.device(s.config(), negotiated, memory);
        } catch (VringSetupException e) {
            faults.record(Fault.QUEUE_SETUP_FAILED, "queue " + s.index() + ": " + e.getMessage());
            needsReset("queue " + s.index() + " cannot be set up: " + e.getMessage());
            return null;
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
        if (status.needsReset()) {
            return;
        }
        // Checked now, so that a bad address fails at the write that set it up; built again at DRIVER_OK
        // from the memory map in force then.
        DeviceVring ring = buildRing(s, features.accepted());
        if (ring == null) {
            return;
        }
        if (active) {
            if (!handedOut[index]) {
                // the device took its queues at DRIVER_OK; only a queue reset lets the driver set one up again
                faults.record(Fault.QUEUE_ENABLE_INVALID, "queue " + index + " enabled after DRIVER_OK");
                return;
            }
            s.setEnabled(true);
            queues.plug(index, ring); // and its worker looks at it
        } else {
            s.setEnabled(true);
        }
    }

    /** RING_RESET: the driver wrote 1 to queue_reset of {@code index}: stop it and forget its set-up. */
    public void resetQueue(int index) {
        queues.unplug(index);
        setups[index].reset();
    }

    /** The driver notified queue {@code index}: handed to the queue's worker, never served here. */
    public void kick(int index) {
        PluggableQueue queue = queues.queue(index);
        if (queue == null) {
            faults.record(Fault.NOTIFY_UNKNOWN_QUEUE, "queue " + index + " of " + setups.length);
            return;
        }
        queue.counters().kicked(); // the register thread is the kicks' one writer
        queues.kick(index);
    }

    /**
     * Queue {@code index}'s counters since the function was built (a reset does not clear them), or
     * {@link QueueStatistics#NONE} if the device has no such queue; any thread.
     */
    public QueueStatistics statistics(int index) {
        PluggableQueue queue = queues.queue(index);
        return queue == null ? QueueStatistics.NONE : queue.counters().snapshot();
    }

    // ------------------------------------------------------------------ configuration space

    /** Reads device configuration, not overlapping a device that serves its queues one at a time. */
    public void readConfig(int offset, byte[] dst, int length) {
        queues.readConfig(offset, dst, length);
    }

    public void writeConfig(int offset, byte[] src, int length) {
        queues.writeConfig(offset, src, length);
    }

    // ------------------------------------------------------------------ reset

    /**
     * Sets DEVICE_NEEDS_RESET (once until the next reset), stops serving the queues and raises a
     * configuration interrupt. From any thread; takes no serve lock, so a device may call it while
     * serving.
     */
    public void needsReset(String reason) {
        if (!status.setNeedsReset()) {
            return;
        }
        LOG.log(Level.WARNING, "{0}: device needs reset: {1}", name, reason);
        queues.pauseAll();
        generation.incrementAndGet();
        sink.configInterrupt();
    }

    /**
     * Whether the device may still use guest memory through its rings' views: from a device held past
     * the bound (see {@link QueueService}) until it has let go of every queue. Register thread.
     */
    public boolean guestMemoryInUse() {
        return !queues.ringsReleased();
    }

    /**
     * Device reset (status 0, or the VMM reset the function): returns when the queues are stopped, or
     * after the hold bound with the reset pending if the device does not let go of a queue.
     */
    public void reset() {
        status.write(0);
    }

    /**
     * The reset step: stops the queues and forgets the driver's set-up; the device itself is reset by
     * {@link #finishReset()}, once it has let go of its queues (at once, unless it is held: see
     * {@link QueueService}; meanwhile the status reads DEVICE_NEEDS_RESET, and nothing the device does
     * reaches the driver).
     */
    private void stopAndForget() {
        queues.stop(); // waits (at most the hold bound) for a queueNotified in progress to return
        Arrays.fill(handedOut, false);
        deviceResetOwed |= active || activationTried;
        active = false;
        activationTried = false;
        for (QueueSetup s : setups) {
            s.reset();
        }
    }

    /** Whether the reset has completed; resets the device once its queues are stopped. */
    private boolean finishReset() {
        if (!queues.isStopComplete()) {
            return false;
        }
        if (deviceResetOwed) {
            deviceResetOwed = false;
            try {
                device.reset();
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, name + ": device reset failed", e);
            }
            LOG.log(Level.INFO, "{0}: device reset", name);
        }
        return true;
    }

    // ------------------------------------------------------------------ device-facing objects

    private final class Activation implements DeviceActivation {
        @Override
        public long negotiatedFeatures() {
            return features.accepted();
        }

        @Override
        public DeviceQueue queue(int index) {
            return index >= 0 && index < handedOut.length && handedOut[index] ? queues.queue(index) : null;
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
            if (active && index >= 0 && index < setups.length) {
                // counted by the queue's server, which is who notifies for it (see QueueCounters)
                queues.queue(index).counters().interrupted();
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
