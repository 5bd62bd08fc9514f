package org.jvirtio.transport.mmio;

import static org.jvirtio.transport.mmio.MmioRegister.*;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

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
import org.jvirtio.transport.mmio.internal.DeviceQueues;
import org.jvirtio.transport.mmio.internal.InterruptState;
import org.jvirtio.vring.QueueCounters;

/**
 * The virtio-mmio version 2 register model of one {@link VirtioDevice} (virtio 1.2 section 4.2.2):
 * a VMM forwards the guest's loads and stores inside the device's {@link MmioRegister#WINDOW_SIZE}-byte
 * window to {@link #read} and {@link #write}, and wires {@link MmioInterruptLine} to the interrupt the
 * guest was told about.
 *
 * <p><b>Untrusted driver.</b> Every access is the guest's: a control register accessed with a width
 * other than 32 bits or misaligned, a write to a read-only register, a read of a write-only one, a queue
 * changed while ready, a notify of a queue that does not exist: each is ignored (reads answer 0),
 * logged and counted ({@link MmioCounter}); none throws. A queue whose size or ring addresses cannot
 * work, a failed activation and a device's own {@link DriverNotifier#deviceNeedsReset} set
 * DEVICE_NEEDS_RESET and raise a configuration-change interrupt; only a reset (status 0) clears it.
 *
 * <p><b>Threads.</b> {@link #read} and {@link #write} may come from several vCPU threads: one lock
 * serialises them. QueueNotify only wakes the queue's worker (started at DRIVER_OK, ended by reset: one
 * per queue if the device {@linkplain VirtioDevice#servesQueuesConcurrently() serves them concurrently},
 * else one for the device), which has the device serve the queue under the queue's serve lock. Those
 * workers never take the register lock, so a reset may wait for them, but only so long (10 s): a device
 * that does not return from serving a queue by then is counted ({@link MmioCounter#DEVICE_STUCK}) and
 * set to DEVICE_NEEDS_RESET, and a reset written meanwhile completes only once it has returned (the
 * status reads DEVICE_NEEDS_RESET, not 0, until then; see {@code QueueService}).
 *
 * <p><b>Guest memory.</b> Rings are resolved into views of {@code memory} when QueueReady is set; a VMM
 * whose memory map changes calls {@link #remapRings()} before it unmaps the old mappings.
 */
public final class VirtioMmioTransport implements AutoCloseable {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.mmio");
    /** Per counter, this many events are logged at WARNING; later ones at DEBUG (a guest may loop). */
    private static final int LOUD_LOGS = 8;
    /** Features a virtio-mmio device cannot honour: PCI-only ones. */
    private static final long NOT_ON_MMIO = VirtioFeature.bit(VirtioFeature.SR_IOV)
            | VirtioFeature.bit(VirtioFeature.NOTIF_CONFIG_DATA);

    private final VirtioDevice device;
    private final GuestMemory memory;
    private final String name;
    private final Object lock = new Object();
    private final AtomicLongArray counts = new AtomicLongArray(MmioCounter.values().length);
    private final InterruptState interrupts;
    private final FeatureWindows features;
    private final StatusMachine lifecycle;
    private final DeviceQueues queues;
    private final AtomicInteger configGeneration = new AtomicInteger();
    private final byte[] configBytes = new byte[4];
    private int queueSelect;
    /** Kept only because the driver may write it: no region exists, whatever it selects. */
    private int shmSelect;
    /** The notifier of the current activation; null while the device is not active. */
    private Notifier notifier;
    /** A reset expired an activation; the device's own reset waits until it let go of its queues. */
    private boolean deviceResetOwed;
    /** The device was found held during the reset under way (register lock). */
    private boolean heldNow;
    private boolean closed;

    /**
     * @param device the device model served
     * @param memory the guest's memory (rings and buffers are checked against it)
     * @param line   the device's interrupt line
     * @param name   the device in logs, e.g. {@code blk0}
     */
    public VirtioMmioTransport(VirtioDevice device, GuestMemory memory, MmioInterruptLine line, String name) {
        this(device, memory, line, name, QueueService.DEFAULT_HOLD_BOUND);
    }

    /** For tests: a register write waits {@code holdBound} (not the default) for a device to let go of a queue. */
    VirtioMmioTransport(VirtioDevice device, GuestMemory memory, MmioInterruptLine line, String name, Duration holdBound) {
        this.device = Objects.requireNonNull(device, "device");
        this.memory = Objects.requireNonNull(memory, "memory");
        this.name = Objects.requireNonNull(name, "name");
        this.interrupts = new InterruptState(new GuardedLine(Objects.requireNonNull(line, "line"), name));
        this.features = new FeatureWindows(device.offeredFeatures() & ~NOT_ON_MMIO);
        this.lifecycle = new StatusMachine(features, new Steps());
        this.queues = new DeviceQueues(device, "virtio-mmio " + name, this::needsReset, this::deviceHeld, holdBound);
    }

    public VirtioDevice device() {
        return device;
    }

    /**
     * A load of {@code size} bytes at {@code offset} inside the window, little-endian, zero-extended.
     * Never throws: what the specification does not allow reads as 0 and is counted.
     */
    public long read(int offset, int size) {
        synchronized (lock) {
            if (closed) {
                return 0;
            }
            if (offset >= CONFIG) {
                return readConfig(offset, size);
            }
            if (!controlAccess(offset, size, "read")) {
                return 0;
            }
            return Integer.toUnsignedLong(readRegister(offset));
        }
    }

    /** A store of the low {@code size} bytes of {@code value} at {@code offset} inside the window. Never throws. */
    public void write(int offset, int size, long value) {
        synchronized (lock) {
            if (closed) {
                return;
            }
            if (offset >= CONFIG) {
                writeConfig(offset, size, value);
                return;
            }
            if (controlAccess(offset, size, "write")) {
                writeRegister(offset, (int) value);
            }
        }
    }

    /**
     * The VMM's map of guest memory changed (the {@code memory} given at construction, a swappable map,
     * now holds the new one): every ring is rebuilt over it at its current positions while the device
     * does not serve it. Call it before unmapping the old host mappings; a ring that cannot move yet
     * (its device holds chains taken from it) keeps the old views, and the call says so.
     *
     * @return true if no ring uses the old mappings any more
     */
    public boolean remapRings() {
        synchronized (lock) {
            if (!queues.ringsReleased()) {
                return false; // a device that did not return from serving a queue may still read the old views
            }
            if (closed || !features.isLocked()) {
                return true;
            }
            return queues.remap(features.negotiated(), memory) == 0;
        }
    }

    /**
     * Whether the device may still use guest memory through its rings although it was reset or its
     * rings pulled: from a device that did not return from serving a queue in time until it has. The
     * VMM keeps guest memory mapped meanwhile.
     *
     * @since 1.1
     */
    public boolean guestMemoryInUse() {
        synchronized (lock) {
            return !queues.ringsReleased();
        }
    }

    /** The device status as the driver reads it. */
    public int status() {
        return lifecycle.status();
    }

    /** The InterruptStatus bits pending now. */
    public int interruptStatus() {
        return interrupts.bits();
    }

    /** Whether the interrupt line is asserted now. */
    public boolean interruptAsserted() {
        return interrupts.isAsserted();
    }

    /** The features negotiated at FEATURES_OK (0 before). */
    public long negotiatedFeatures() {
        synchronized (lock) {
            return features.negotiated();
        }
    }

    public long count(MmioCounter counter) {
        return counts.get(counter.ordinal());
    }

    /**
     * Queue {@code index}'s counters (chains, completions, bytes, kicks, interrupts, suppressed
     * notifications, errors) since this transport was built: a device reset does not clear them. Zeros
     * ({@link QueueStatistics#NONE}) for a queue the device does not have. Any thread, no lock.
     *
     * @since 1.2
     */
    public QueueStatistics queueStatistics(int index) {
        QueueCounters queue = queues.counters(index);
        return queue == null ? QueueStatistics.NONE : queue.snapshot();
    }

    /** Every {@link MmioCounter} by its lower-case name, for the shell and JMX. */
    public Map<String, Long> counters() {
        Map<String, Long> map = new LinkedHashMap<>();
        for (MmioCounter c : MmioCounter.values()) {
            map.put(c.name().toLowerCase(Locale.ROOT), count(c));
        }
        return map;
    }

    /** Resets the device as a status write of 0 would, ends the queue threads; later accesses read 0. */
    @Override
    public void close() {
        synchronized (lock) {
            if (!closed) {
                lifecycle.write(0);
                closed = true;
                if (lifecycle.resetPending()) {
                    LOG.log(Level.WARNING, "{0}: closed while the device has not returned from serving a queue:"
                            + " it is left to return on its own and is not reset", name);
                }
            }
        }
    }

    @Override
    public String toString() {
        return "VirtioMmioTransport[" + name + ", device " + device.deviceId() + ", status "
                + DeviceStatus.describe(lifecycle.status()) + "]";
    }

    // ------------------------------------------------------------------ access checks

    /** Whether a control-register access has the one legal shape: 32 bits wide, 32-bit aligned, in range. */
    private boolean controlAccess(int offset, int size, String what) {
        if (offset < 0) {
            refuse(MmioCounter.UNKNOWN_REGISTER, what + " at negative offset " + offset);
            return false;
        }
        if (size != 4) {
            refuse(MmioCounter.WRONG_SIZE, size + "-byte " + what + " of " + MmioRegister.name(offset));
            return false;
        }
        if ((offset & 3) != 0) {
            refuse(MmioCounter.MISALIGNED, what + " at 0x" + Integer.toHexString(offset));
            return false;
        }
        return true;
    }

    /** Whether a config-space access is 1, 2 or 4 bytes, aligned to its width, inside the window. */
    private boolean configAccess(int offset, int size, String what) {
        if (size != 1 && size != 2 && size != 4) {
            refuse(MmioCounter.WRONG_SIZE, size + "-byte " + what + " of " + MmioRegister.name(offset));
            return false;
        }
        if ((offset & (size - 1)) != 0) {
            refuse(MmioCounter.MISALIGNED, size + "-byte " + what + " of " + MmioRegister.name(offset));
            return false;
        }
        if (offset > WINDOW_SIZE - size) {
            refuse(MmioCounter.UNKNOWN_REGISTER, what + " at 0x" + Integer.toHexString(offset) + ", past the window");
            return false;
        }
        return true;
    }

    // ------------------------------------------------------------------ registers

    private int readRegister(int offset) {
        switch (offset) {
            case MAGIC_VALUE:
                return MAGIC;
            case VERSION:
                return VERSION_2;
            case DEVICE_ID:
                return device.deviceId();
            case VENDOR_ID:
                return JVIRTIO_VENDOR;
            case DEVICE_FEATURES:
                return features.deviceWindow();
            case QUEUE_NUM_MAX: {
                QueueSetup q = selectedQueue();
                return q == null ? 0 : q.maxSize();
            }
            case QUEUE_READY: {
                QueueSetup q = selectedQueue();
                return q != null && q.enabled() ? 1 : 0;
            }
            case INTERRUPT_STATUS:
                return interrupts.bits();
            case STATUS:
                return lifecycle.read();
            case SHM_LEN_LOW:
            case SHM_LEN_HIGH:
            case SHM_BASE_LOW:
            case SHM_BASE_HIGH:
                // no shared memory region: length and base read as -1 whatever SHMSel says (spec 4.2.2)
                return -1;
            case QUEUE_RESET:
                // a queue reset completes within the write: it always reads 0 afterwards
                return 0;
            case CONFIG_GENERATION:
                return configGeneration.get();
            case DEVICE_FEATURES_SEL:
            case DRIVER_FEATURES:
            case DRIVER_FEATURES_SEL:
            case QUEUE_SEL:
            case QUEUE_NUM:
            case QUEUE_NOTIFY:
            case INTERRUPT_ACK:
            case QUEUE_DESC_LOW:
            case QUEUE_DESC_HIGH:
            case QUEUE_DRIVER_LOW:
            case QUEUE_DRIVER_HIGH:
            case QUEUE_DEVICE_LOW:
            case QUEUE_DEVICE_HIGH:
            case SHM_SEL:
                refuse(MmioCounter.READ_OF_WRITE_ONLY, "read of " + MmioRegister.name(offset));
                return 0;
            default:
                refuse(MmioCounter.UNKNOWN_REGISTER, "read of " + MmioRegister.name(offset));
                return 0;
        }
    }

    private void writeRegister(int offset, int value) {
        switch (offset) {
            case DEVICE_FEATURES_SEL:
                features.selectDevice(value);
                return;
            case DRIVER_FEATURES:
                if (!features.writeDriverWindow(value)) {
                    refuse(MmioCounter.FEATURES_AFTER_FEATURES_OK, "DriverFeatures written after FEATURES_OK");
                }
                return;
            case DRIVER_FEATURES_SEL:
                features.selectDriver(value);
                return;
            case QUEUE_SEL:
                queueSelect = value;
                return;
            case QUEUE_NUM:
            case QUEUE_DESC_LOW:
            case QUEUE_DESC_HIGH:
            case QUEUE_DRIVER_LOW:
            case QUEUE_DRIVER_HIGH:
            case QUEUE_DEVICE_LOW:
            case QUEUE_DEVICE_HIGH:
                writeQueueSetup(offset, value);
                return;
            case QUEUE_READY:
                writeQueueReady(value);
                return;
            case QUEUE_NOTIFY:
                notifyQueue(value);
                return;
            case INTERRUPT_ACK:
                if (!interrupts.acknowledge(value & (INT_USED_BUFFER | INT_CONFIG_CHANGE))
                        || (value & ~(INT_USED_BUFFER | INT_CONFIG_CHANGE)) != 0) {
                    refuse(MmioCounter.BAD_INTERRUPT_ACK, "InterruptACK 0x" + Integer.toHexString(value)
                            + " names events not pending");
                }
                return;
            case STATUS:
                writeStatus(value);
                return;
            case SHM_SEL:
                shmSelect = value;
                return;
            case QUEUE_RESET:
                writeQueueReset(value);
                return;
            case MAGIC_VALUE:
            case VERSION:
            case DEVICE_ID:
            case VENDOR_ID:
            case DEVICE_FEATURES:
            case QUEUE_NUM_MAX:
            case INTERRUPT_STATUS:
            case SHM_LEN_LOW:
            case SHM_LEN_HIGH:
            case SHM_BASE_LOW:
            case SHM_BASE_HIGH:
            case CONFIG_GENERATION:
                refuse(MmioCounter.WRITE_TO_READ_ONLY, "write of 0x" + Integer.toHexString(value) + " to "
                        + MmioRegister.name(offset));
                return;
            default:
                refuse(MmioCounter.UNKNOWN_REGISTER, "write to " + MmioRegister.name(offset));
        }
    }

    /** The queue QueueSel names, or null if the device has no such queue. */
    private QueueSetup selectedQueue() {
        return queues.setup(queueSelect);
    }

    private void writeQueueSetup(int offset, int value) {
        QueueSetup q = selectedQueue();
        if (q == null) {
            refuse(MmioCounter.NO_SUCH_QUEUE, MmioRegister.name(offset) + " for queue "
                    + Integer.toUnsignedString(queueSelect) + ", which the device does not have");
            return;
        }
        boolean accepted;
        switch (offset) {
            case QUEUE_NUM: accepted = q.setSize(value); break;
            case QUEUE_DESC_LOW: accepted = q.setDescriptorLow(value); break;
            case QUEUE_DESC_HIGH: accepted = q.setDescriptorHigh(value); break;
            case QUEUE_DRIVER_LOW: accepted = q.setDriverLow(value); break;
            case QUEUE_DRIVER_HIGH: accepted = q.setDriverHigh(value); break;
            case QUEUE_DEVICE_LOW: accepted = q.setDeviceLow(value); break;
            default: accepted = q.setDeviceHigh(value); break;
        }
        if (!accepted) {
            refuse(MmioCounter.QUEUE_CHANGED_WHILE_READY, MmioRegister.name(offset) + " written while queue "
                    + queueSelect + " is ready");
        }
    }

    private void writeQueueReady(int value) {
        QueueSetup q = selectedQueue();
        if (q == null) {
            refuse(MmioCounter.NO_SUCH_QUEUE, "QueueReady for queue " + Integer.toUnsignedString(queueSelect)
                    + ", which the device does not have");
            return;
        }
        int index = queueSelect;
        if (value == 0) {
            if (q.enabled()) {
                queues.disable(index);
            }
            return;
        }
        if (q.enabled()) {
            return; // already serving; nothing changes
        }
        if (!features.isLocked()) {
            refuse(MmioCounter.QUEUE_READY_TOO_EARLY, "QueueReady for queue " + index + " before FEATURES_OK");
            return;
        }
        String setup = q.config().toString();
        String problem = queues.enable(index, features.negotiated(), memory);
        if (problem != null) {
            refuse(MmioCounter.BAD_QUEUE_SETUP, "queue " + index + " cannot be enabled: " + problem + " (" + setup + ")");
            needsReset("queue " + index + ": " + problem);
        }
    }

    private void writeQueueReset(int value) {
        QueueSetup q = selectedQueue();
        if (!VirtioFeature.has(features.negotiated(), VirtioFeature.RING_RESET)) {
            refuse(MmioCounter.QUEUE_RESET_NOT_NEGOTIATED, "QueueReset written without VIRTIO_F_RING_RESET");
            return;
        }
        if (q == null) {
            refuse(MmioCounter.NO_SUCH_QUEUE, "QueueReset for queue " + Integer.toUnsignedString(queueSelect)
                    + ", which the device does not have");
            return;
        }
        if (value != 1) {
            return; // only 1 means anything (spec 4.2.2)
        }
        queues.resetQueue(queueSelect);
        LOG.log(Level.DEBUG, "{0}: queue {1} reset", name, queueSelect);
    }

    private void notifyQueue(int value) {
        // with NOTIFICATION_DATA the queue index is the low 16 bits; the rest is a hint we do not need
        int index = VirtioFeature.has(features.negotiated(), VirtioFeature.NOTIFICATION_DATA) ? value & 0xFFFF : value;
        QueueSetup q = queues.setup(index);
        if (q == null) {
            refuse(MmioCounter.NOTIFY_NO_SUCH_QUEUE, "QueueNotify of queue " + Integer.toUnsignedString(index)
                    + ", which the device does not have");
            return;
        }
        if (notifier == null || !q.enabled()) {
            refuse(MmioCounter.NOTIFY_NOT_READY, "QueueNotify of queue " + index + (notifier == null
                    ? " before DRIVER_OK" : ", which is not ready"));
            return;
        }
        counts.incrementAndGet(MmioCounter.NOTIFIES.ordinal());
        queues.kick(index);
    }

    // ------------------------------------------------------------------ status

    private void writeStatus(int value) {
        int before = lifecycle.status();
        StatusMachine.Outcome outcome = lifecycle.write(value);
        switch (outcome) {
            case BAD_TRANSITION:
                refuse(MmioCounter.BAD_STATUS_TRANSITION, "status " + DeviceStatus.describe(before) + " -> "
                        + DeviceStatus.describe(value) + " refused" + (lifecycle.resetPending()
                                ? " (the device has not let go of its queues since the reset)" : ""));
                break;
            case FEATURES_REFUSED:
                refuse(MmioCounter.FEATURES_REFUSED, "FEATURES_OK refused: " + lifecycle.lastRefusal());
                break;
            case ACTIVATION_FAILED:
                needsReset("activation failed: " + lifecycle.lastRefusal());
                break;
            default:
                LOG.log(Level.DEBUG, "{0}: status {1}", name, DeviceStatus.describe(lifecycle.status()));
        }
    }

    /** What the status machine does at each step; called under the register lock. */
    private final class Steps implements StatusMachine.Steps {
        @Override
        public String activate() {
            if (lifecycle.needsReset()) {
                return "the device needs a reset first";
            }
            long negotiated = features.negotiated();
            Notifier fresh = new Notifier();
            notifier = fresh;
            try {
                device.activate(new Activation(negotiated, queues.forActivation(), memory, fresh));
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, name + ": device activation failed", e);
                return String.valueOf(e.getMessage());
            }
            queues.start();
            LOG.log(Level.INFO, "{0}: device started, features 0x{1}", name, Long.toHexString(negotiated));
            return null;
        }

        @Override
        public void reset() {
            heldNow = false;
            queues.stop(); // at most the hold bound; the device itself is reset once it let go (resetDone)
            Notifier old = notifier;
            notifier = null;
            if (old != null) {
                old.expire(); // nothing a held device does later reaches the driver
                deviceResetOwed = true;
            }
            queues.clear();
            interrupts.clear();
            if (heldNow) {
                // the configuration change that reported the held device outlives the reset's clear
                interrupts.raise(INT_CONFIG_CHANGE);
            }
            queueSelect = 0;
            shmSelect = 0;
        }

        @Override
        public boolean resetDone() {
            if (!queues.stopped()) {
                return false;
            }
            if (deviceResetOwed) {
                deviceResetOwed = false;
                try {
                    device.reset();
                } catch (RuntimeException e) {
                    LOG.log(Level.ERROR, name + ": device reset failed", e);
                }
            }
            return true;
        }
    }

    /**
     * The device did not let go of a queue within the hold bound (a reset or ring change went on
     * without it): counted, then DEVICE_NEEDS_RESET. The status reads so until it lets go, even across
     * the driver's reset (see {@code StatusMachine}).
     */
    private void deviceHeld(String reason) {
        heldNow = true;
        counts.incrementAndGet(MmioCounter.DEVICE_STUCK.ordinal());
        needsReset(reason);
    }

    /** DEVICE_NEEDS_RESET from any thread: stop offering chains, tell the driver once. */
    private void needsReset(String reason) {
        counts.incrementAndGet(MmioCounter.DEVICE_NEEDS_RESET.ordinal());
        queues.pauseAll();
        if (lifecycle.setNeedsReset()) {
            LOG.log(Level.WARNING, "{0}: device needs reset: {1}", name, reason);
            counts.incrementAndGet(MmioCounter.CONFIG_INTERRUPTS.ordinal());
            interrupts.raise(INT_CONFIG_CHANGE);
        } else {
            LOG.log(Level.DEBUG, "{0}: device needs reset (again): {1}", name, reason);
        }
    }

    // ------------------------------------------------------------------ configuration space

    private long readConfig(int offset, int size) {
        if (!configAccess(offset, size, "read")) {
            return 0;
        }
        byte[] b = configBytes;
        queues.readConfig(offset - CONFIG, b, size);
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xFF);
        }
        return v;
    }

    private void writeConfig(int offset, int size, long value) {
        if (!configAccess(offset, size, "write")) {
            return;
        }
        byte[] b = configBytes;
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (value >>> (8 * i));
        }
        queues.writeConfig(offset - CONFIG, b, size);
    }

    // ------------------------------------------------------------------ helpers

    private void refuse(MmioCounter counter, String what) {
        long n = counts.incrementAndGet(counter.ordinal());
        LOG.log(n <= LOUD_LOGS ? Level.WARNING : Level.DEBUG, "{0}: {1} ({2} #{3})", name, what,
                counter.name().toLowerCase(Locale.ROOT), n);
    }

    /** How the active device interrupts the driver; ignored once a reset expired it. */
    private final class Notifier implements DriverNotifier {
        private volatile boolean expired;

        void expire() {
            expired = true;
        }

        @Override
        public void notifyUsed(int index) {
            if (!expired) {
                counts.incrementAndGet(MmioCounter.USED_INTERRUPTS.ordinal());
                QueueCounters queue = queues.counters(index);
                if (queue != null) {
                    queue.interrupted(); // by the queue's server, who notifies for it (see QueueCounters)
                }
                interrupts.raise(INT_USED_BUFFER);
            }
        }

        @Override
        public void notifyConfigChanged() {
            if (!expired) {
                // the generation moves before the interrupt: a driver woken by it sees a new value
                configGeneration.incrementAndGet();
                counts.incrementAndGet(MmioCounter.CONFIG_INTERRUPTS.ordinal());
                interrupts.raise(INT_CONFIG_CHANGE);
            }
        }

        @Override
        public void deviceNeedsReset(String reason) {
            if (!expired) {
                needsReset(reason);
            }
        }
    }

    private record Activation(long negotiatedFeatures, DeviceQueue[] queues, GuestMemory memory,
            DriverNotifier notifier) implements DeviceActivation {
        @Override
        public DeviceQueue queue(int index) {
            return index >= 0 && index < queues.length ? queues[index] : null;
        }
    }

    /** The VMM's line callback, kept from throwing into a device thread or the register path. */
    private record GuardedLine(MmioInterruptLine line, String name) implements MmioInterruptLine {
        @Override
        public void set(boolean asserted) {
            try {
                line.set(asserted);
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, name + ": interrupt line callback failed", e);
            }
        }
    }
}
