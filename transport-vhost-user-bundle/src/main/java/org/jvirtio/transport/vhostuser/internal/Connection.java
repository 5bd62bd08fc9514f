package org.jvirtio.transport.vhostuser.internal;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.jvirtio.api.device.DeviceActivation;
import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.nativeio.EventFd;
import org.jvirtio.nativeio.NativeException;
import org.jvirtio.nativeio.UnixSocket;
import org.jvirtio.vring.memory.GuestMemoryMap;
import org.jvirtio.vring.memory.SwappableGuestMemory;

/**
 * One front-end connection: reads messages on its own thread, validates each against its
 * {@link Request} before a handler sees it, runs the handler, and answers in one place (explicit
 * replies, and REPLY_ACK's u64 for the rest). A refused request is answered or logged and the
 * connection goes on; a message whose framing cannot be trusted, or a refused request that needed a
 * reply body, marks the connection broken: it is closed with a logged reason, the device is reset, and
 * the server waits for the next front end. Nothing the peer sends ends with an exception leaving the
 * thread.
 *
 * <p><b>Threads.</b> The message thread runs every handler under {@link #lock}. Each ring has its own
 * thread ({@link RingWorker}) that waits for the ring's kick eventfd and has the device serve the queue
 * in {@code queueNotified}, holding the ring's serve lock (shared by all rings of a device that serves
 * queues one at a time). To change a ring, the message thread pauses its slot (the device finds no new
 * chain and returns), takes the serve lock, changes it, resumes and kicks the ring itself
 * ({@link #quiesced}); a kick read while the slot is paused does not call the device at all, so a
 * replaced device is never served before its start or after its reset. Lock order: connection lock,
 * then serve locks; a ring thread never takes the connection lock while it holds its serve lock.
 *
 * <p><b>When old memory is unmapped.</b> A memory-table change installs the new map in the
 * {@link SwappableGuestMemory} and rebuilds every started ring over it (at its current positions). A
 * ring whose device still holds chains (completed later from another thread) keeps its old ring
 * views; then the dropped regions are only retired. At the first moment (checked after served kicks
 * while regions are retired, at every table change and at disconnect) when no ring holds a chain,
 * the rings still on old views are rebuilt and the retired regions unmapped, all with every ring
 * quiesced.
 */
public final class Connection implements Runnable {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.vhostuser");
    static final long F_PROTOCOL_FEATURES = 1L << ProtocolFeature.F_PROTOCOL_FEATURES;

    final Object lock = new Object();
    /** Replaced only by {@link DeviceReplacement}, under {@link #lock} with every ring quiesced. */
    volatile VirtioDevice device;
    final String name;
    private final UnixSocket socket;
    /** Whether every ring has its own serve lock ({@code VirtioDevice.servesQueuesConcurrently()}). */
    final boolean concurrentQueues;
    /** The serve lock all rings share otherwise; also held around configuration-space access then. */
    private final Object deviceLock = new Object();
    final VringState[] rings;
    final SwappableGuestMemory memory = new SwappableGuestMemory(GuestMemoryMap.EMPTY);
    private final Handlers handlers;
    private final Notifier notifier = new Notifier();
    final DeviceActivation activation = new Activation();

    MemoryTable table = MemoryTable.EMPTY;
    final List<MemoryRegion> retired = new ArrayList<>();
    /** Whether {@link #retired} holds regions: ring threads check it without the connection lock. */
    private volatile boolean retiring;
    long ackedFeatures;
    long protocolFeatures;
    int status;
    boolean needsReset;
    boolean active;
    InflightArea inflight;
    private volatile boolean closing;
    /** Set by {@link #close()} before it unplugs the rings; guarded by {@link #lock}. */
    private boolean leaving;
    private String broken;

    /** @param counters the back end's counters of each ring, grown to this device's queue count as needed */
    public Connection(VirtioDevice device, UnixSocket socket, String name, RingCounters counters)
            throws NativeException {
        this.device = device;
        this.socket = socket;
        this.name = name;
        this.concurrentQueues = device.servesQueuesConcurrently();
        int count = Math.min(device.queueCount(), 256);
        this.rings = new VringState[count];
        for (int i = 0; i < count; i++) {
            rings[i] = new VringState(i, concurrentQueues ? new Object() : deviceLock, counters.of(i));
        }
        this.handlers = new Handlers(this);
    }

    /** Serves the connection until the peer leaves or breaks the protocol; then resets the device. */
    @Override
    public void run() {
        LOG.log(Level.INFO, "{0}: front end connected", name);
        try {
            for (;;) {
                Message message = Message.read(socket);
                if (message == null) {
                    LOG.log(Level.INFO, "{0}: front end disconnected", name);
                    break;
                }
                handle(message);
                if (broken != null) {
                    LOG.log(Level.WARNING, "{0}: closing the connection: {1}", name, broken);
                    break;
                }
            }
        } catch (ProtocolException e) {
            LOG.log(Level.WARNING, "{0}: closing the connection: {1}", name, e.getMessage());
        } catch (IOException e) {
            if (!closing) {
                LOG.log(Level.WARNING, "{0}: closing the connection: {1}", name, e.toString());
            }
        } catch (IllegalStateException e) {
            if (!closing) { // our own close() makes the socket refuse further use
                LOG.log(Level.ERROR, name + ": closing the connection after an internal error", e);
            }
        } catch (RuntimeException | Error e) {
            LOG.log(Level.ERROR, name + ": closing the connection after an internal error", e);
        } finally {
            shutdown();
        }
    }

    /**
     * Ends the connection from another thread (server shutdown). The rings are taken from the device
     * first, with everything it completed published and signalled, and only then does the socket close:
     * a front end that sees its back end go cannot ask where the rings stopped (GET_VRING_BASE fails) and
     * resumes them at the used index it finds then (QEMU), so a completion published after the socket
     * closed would make the next back end serve ring entries again that the driver has already seen
     * used (and may have reused). Chains the device still holds stay in flight in the in-flight area,
     * for the next back end to resubmit.
     */
    public void close() {
        synchronized (lock) {
            leaving = true; // no ring is plugged again from here on (plugIfRunnable)
            for (VringState ring : rings) {
                quiescedQuietly(ring, () -> {
                    if (ring.slot.vring() != null && ring.slot.publishUsed()) {
                        notifyDriver(ring.index);
                    }
                    ring.slot.unplug();
                });
            }
        }
        closing = true;
        socket.close();
    }

    /** Whether {@link #close()} has begun: rings stay unplugged. Guarded by the connection lock. */
    boolean isLeaving() {
        return leaving;
    }

    // ------------------------------------------------------------------ dispatch

    void handle(Message message) throws IOException {
        Request request = Request.of(message.request());
        Result result;
        try {
            if (request == null) {
                result = Result.fail("unknown request " + message.request());
            } else {
                String invalid = MessageCheck.check(request, message, protocolFeatures);
                if (invalid != null) {
                    result = Result.fail(invalid);
                } else {
                    synchronized (lock) {
                        result = handlers.handle(request, message);
                    }
                }
            }
        } catch (Failure e) {
            result = Result.fail(e.getMessage());
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, name + ": " + request + " failed", e);
            result = Result.fail(request + " failed: " + e);
        } catch (InternalError e) {
            result = Result.fail(memoryFault(String.valueOf(request), e));
        } finally {
            message.closeFds();
        }
        String what = request != null ? request.name() : "request " + message.request();
        if (result.failed()) {
            LOG.log(Level.WARNING, "{0}: {1} refused: {2}", name, what, result.failure);
        }
        respond(request, message, result);
    }

    /** The one place replies are sent, REPLY_ACK included. */
    private void respond(Request request, Message message, Result result) throws IOException {
        int flags = Message.VERSION | Message.FLAG_REPLY;
        if (request != null && request.hasReply()) {
            if (result.reply != null) {
                try {
                    Message.write(socket, request.code(), flags, result.reply, result.fds);
                } finally {
                    for (var fd : result.fds) {
                        fd.close();
                    }
                }
            } else if (request == Request.GET_CONFIG) {
                Message.write(socket, request.code(), flags, Message.allocate(0)); // empty payload = error
            } else {
                broken = what(request) + " needs a reply and was refused: " + result.failure;
            }
            return;
        }
        if (message.needsReply() && ProtocolFeature.has(protocolFeatures, ProtocolFeature.REPLY_ACK)) {
            ByteBuffer ack = Message.allocate(8);
            ack.putLong(0, result.failed() ? 1 : 0);
            Message.write(socket, message.request(), flags, ack);
        }
    }

    private static String what(Request request) {
        return request.name();
    }

    // ------------------------------------------------------------------ kicks

    /**
     * Called by {@code ring}'s thread for its readable kick eventfd: has the device serve the queue,
     * then acts on what went wrong (outside the serve lock, see the lock order).
     */
    void serveKick(VringState ring, int tag) {
        String failure = serveUnderLock(ring, tag);
        if (failure != null) {
            needsReset(failure);
        }
        if (retiring) {
            synchronized (lock) {
                releaseRetired();
            }
        }
    }

    private String serveUnderLock(VringState ring, int tag) {
        synchronized (ring.serveLock) {
            EventFd kick = ring.kick;
            if (closing || kick == null || ring.kickTag() != tag) {
                return null; // a descriptor replaced since epoll reported it
            }
            try {
                kick.read();
                ring.counters.kicked();
            } catch (NativeException | RuntimeException e) {
                ring.worker.unwatch(kick);
                return "ring " + ring.index + ": cannot read its kick descriptor: " + e.getMessage();
            }
            if (ring.slot.vring() == null) {
                return null; // stopped or disabled: the kick is dropped; starting the ring re-kicks it
            }
            if (ring.slot.isPaused()) {
                // A change in progress (a replacement between one device's reset and the next one's
                // start): the device is not called, and resuming re-kicks the ring.
                return null;
            }
            try {
                device.queueNotified(ring.index);
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, name + ": device failed serving queue " + ring.index, e);
                return "device failed serving queue " + ring.index + ": " + e;
            } catch (InternalError e) {
                return memoryFault("serving queue " + ring.index, e);
            }
            QueueError error = ring.slot.error();
            if (error == QueueError.NONE) {
                return null;
            }
            ring.counters.failed();
            return "queue " + ring.index + ": " + error.description();
        }
    }

    /**
     * The reason for an access to guest memory that faulted, in {@code where}: HotSpot reports a SIGBUS
     * in an Unsafe access (a page whose file the front end truncated) as an {@link InternalError}, from
     * the access itself when interpreted, but asynchronously, at a later safepoint of the same thread,
     * when compiled (and it aborts the JVM when it cannot step over the faulting instruction: see
     * {@link MemoryRegion}). Any other InternalError is rethrown.
     */
    String memoryFault(String where, InternalError e) {
        if (!MemoryRegion.isAccessFault(e)) {
            throw e;
        }
        List<MemoryRegion> truncated = table.truncated(); // a racy read of an immutable table: diagnostics only
        String region = truncated.isEmpty() ? "a guest memory region" : "guest memory region " + truncated.get(0);
        LOG.log(Level.DEBUG, name + ": " + where, e);
        return where + ": " + region + " is no longer backed (was its file truncated?)";
    }

    /** What {@link #quiesced} runs: a change to rings that may refuse. */
    interface RingChange {
        void run() throws Failure;
    }

    /**
     * Runs {@code change} while the device serves none of the rings it touches: pauses their slots,
     * takes the serve lock (waiting for a {@code queueNotified} in progress to return), changes, then
     * resumes and kicks the rings (a kick read while paused found nothing). With a device serving queues
     * one at a time, all rings share the lock, so all are paused. Called under the connection lock.
     */
    void quiesced(VringState ring, RingChange change) throws Failure {
        VringState[] paused = concurrentQueues ? new VringState[] {ring} : rings;
        for (VringState r : paused) {
            r.slot.pause();
        }
        try {
            synchronized (ring.serveLock) {
                change.run();
            }
        } finally {
            for (VringState r : paused) {
                r.slot.resume();
                kickSelf(r);
            }
        }
    }

    /** {@link #quiesced} for a change that cannot refuse. */
    void quiescedQuietly(VringState ring, Runnable change) {
        try {
            quiesced(ring, change::run);
        } catch (Failure e) {
            throw new IllegalStateException(e); // not thrown by a Runnable
        }
    }

    /** Has the ring's thread look at the ring again, as if the driver had kicked. */
    void kickSelf(VringState ring) {
        EventFd kick = ring.kick;
        if (kick != null && ring.slot.vring() != null) {
            try {
                kick.signal();
            } catch (NativeException | RuntimeException e) {
                LOG.log(Level.DEBUG, "{0}: self-kick of ring {1}: {2}", name, ring.index, e.getMessage());
            }
        }
    }

    /** Interrupts the driver for queue {@code index} (the call eventfd), as the device's notifier does. */
    void notifyDriver(int index) {
        notifier.notifyUsed(index);
    }

    /** Configuration-space access: one at a time with queue service unless the device allows otherwise. */
    void withConfigAccess(Runnable access) {
        if (concurrentQueues || rings.length == 0) {
            access.run();
        } else {
            quiescedQuietly(rings[0], access);
        }
    }

    /** Gives the ring {@code kick} (replacing and closing any previous one), watched by the ring's thread. */
    void setKick(VringState ring, EventFd kick) throws Failure {
        if (ring.worker == null) {
            try {
                ring.worker = RingWorker.start(this, ring);
            } catch (NativeException e) {
                kick.close();
                throw new Failure("ring " + ring.index + ": cannot start its thread", e);
            }
        }
        quiesced(ring, () -> {
            removeKickLocked(ring);
            ring.kick = kick;
            ring.kickGeneration++;
            try {
                ring.worker.watch(kick, ring.kickTag());
            } catch (NativeException e) {
                removeKickLocked(ring);
                throw new Failure("ring " + ring.index + ": cannot watch the kick descriptor", e);
            }
        });
    }

    void removeKick(VringState ring) {
        quiescedQuietly(ring, () -> removeKickLocked(ring));
    }

    private void removeKickLocked(VringState ring) {
        EventFd kick = ring.kick;
        if (kick != null) {
            ring.kick = null;
            if (ring.worker != null) {
                ring.worker.unwatch(kick);
            }
            kick.close();
        }
    }

    // ------------------------------------------------------------------ device state

    /** The device (or this transport) found an error only a reset cures: stop the queues, report it. */
    void needsReset(String reason) {
        synchronized (lock) {
            LOG.log(Level.WARNING, "{0}: device needs reset: {1}", name, reason);
            needsReset = true;
            for (VringState ring : rings) {
                quiescedQuietly(ring, ring.slot::unplug);
                if (ring.err != null) {
                    try {
                        ring.err.signal();
                    } catch (NativeException | RuntimeException e) {
                        LOG.log(Level.DEBUG, "{0}: err eventfd: {1}", name, e.getMessage());
                    }
                }
            }
        }
    }

    /**
     * Puts {@code next} in the current device's place without the front end noticing (see
     * {@link DeviceReplacement}).
     *
     * @return how long the rings were paused
     */
    public Duration replaceDevice(VirtioDevice next, Duration drain) {
        synchronized (lock) {
            return new DeviceReplacement(this).replace(next, drain);
        }
    }

    /** {@code running} (device started), {@code needs-reset} or {@code connected}, for management. */
    public String state() {
        synchronized (lock) {
            return needsReset ? "needs-reset" : active ? "running" : "connected";
        }
    }

    /** The features the front end acknowledged (protocol-features bit left out); 0 before it did. */
    public long negotiatedFeatures() {
        synchronized (lock) {
            return ackedFeatures & ~F_PROTOCOL_FEATURES;
        }
    }

    /** Activates the device when its first ring runs. */
    void ensureActive() {
        if (active || needsReset) {
            return;
        }
        try {
            device.activate(activation);
            active = true;
            LOG.log(Level.INFO, "{0}: device started, features 0x{1}", name,
                    Long.toHexString(activation.negotiatedFeatures()));
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, name + ": device activation failed", e);
            needsReset("activation failed: " + e.getMessage());
        }
    }

    /** Resets the device (once active), clearing DEVICE_NEEDS_RESET. */
    void resetDevice() {
        if (active) {
            active = false;
            try {
                device.reset();
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, name + ": device reset failed", e);
            }
        }
        needsReset = false;
    }

    /** Regions of a replaced memory table, unmapped by {@link #releaseRetired} when safe. */
    void retire(List<MemoryRegion> dropped) {
        retired.addAll(dropped);
        retiring = !retired.isEmpty();
    }

    /**
     * Unmaps retired regions once no ring holds a chain that may point into them, after rebuilding
     * the rings still on old views over the current table. Under the connection lock.
     */
    void releaseRetired() {
        if (retired.isEmpty()) {
            return;
        }
        for (VringState ring : rings) {
            if (ring.vring != null && ring.vring.inFlight() > 0) {
                return;
            }
        }
        for (VringState ring : rings) {
            if (ring.staleViews) {
                handlers.rings().rebuild(ring);
            }
        }
        // Every ring paused at once: no pop starts from now on. Taking each serve lock in turn then
        // waits out a pop already walking a descriptor table (on the ring's thread or on another
        // thread filling the queue, which holds the same lock). One after another, never nested: a
        // thread that holds one ring's serve lock may wait for another device's (a receive queue),
        // and nested acquisition here could close that into a cycle.
        for (VringState ring : rings) {
            ring.slot.pause();
        }
        try {
            for (VringState ring : rings) {
                synchronized (ring.serveLock) {
                    // nothing: a pop in progress has finished once the lock is ours
                }
            }
            for (VringState ring : rings) {
                if (ring.vring != null && ring.vring.inFlight() > 0) {
                    return; // popped a chain before the pause: wait for the next chance
                }
            }
            retired.forEach(MemoryRegion::close);
            retired.clear();
            retiring = false;
        } finally {
            for (VringState ring : rings) {
                ring.slot.resume();
                kickSelf(ring);
            }
        }
    }

    GuestMemory memory() {
        return memory;
    }

    boolean isClosing() {
        return closing;
    }

    private void shutdown() {
        closing = true;
        for (VringState ring : rings) {
            ring.slot.pause();
            if (ring.worker != null) {
                ring.worker.stop();
            }
        }
        synchronized (lock) {
            for (VringState ring : rings) {
                ring.slot.unplug();
                ring.vring = null;
            }
            resetDevice();
            for (VringState ring : rings) {
                removeKickLocked(ring);
                ring.worker = null;
                EventFd call = ring.call;
                ring.call = null;
                if (call != null) {
                    call.close();
                }
                if (ring.err != null) {
                    ring.err.close();
                    ring.err = null;
                }
                ring.clearConfig();
            }
            memory.replace(GuestMemoryMap.EMPTY);
            table.regions().forEach(MemoryRegion::close);
            table = MemoryTable.EMPTY;
            retired.forEach(MemoryRegion::close);
            retired.clear();
            retiring = false;
            if (inflight != null) {
                inflight.close();
                inflight = null;
            }
            handlers.closeLog();
        }
        socket.close();
        LOG.log(Level.INFO, "{0}: connection closed, device reset", name);
    }

    // ------------------------------------------------------------------ device-facing objects

    private final class Activation implements DeviceActivation {
        @Override
        public long negotiatedFeatures() {
            return ackedFeatures & ~F_PROTOCOL_FEATURES;
        }

        @Override
        public DeviceQueue queue(int index) {
            return index >= 0 && index < rings.length ? rings[index].slot : null;
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

    /** Interrupts through the call eventfds; safe from any thread. */
    private final class Notifier implements DriverNotifier {
        @Override
        public void notifyUsed(int index) {
            if (index < 0 || index >= rings.length || closing) {
                return;
            }
            EventFd call = rings[index].call;
            if (call == null) {
                return; // the front end polls (SET_VRING_CALL without descriptor)
            }
            try {
                call.signal();
                rings[index].counters.interrupted();
            } catch (NativeException | IllegalStateException e) {
                // replaced or closed meanwhile: the front end sends a new call descriptor with the new ring
                LOG.log(Level.DEBUG, "{0}: call eventfd of queue {1}: {2}", name, index, e.getMessage());
            }
        }

        @Override
        public void notifyConfigChanged() {
            // Needs the back-end request channel (BACKEND_REQ), which is not offered.
            LOG.log(Level.INFO, "{0}: configuration changed; the front end learns it on its next GET_CONFIG", name);
        }

        @Override
        public void deviceNeedsReset(String reason) {
            if (closing) {
                return;
            }
            RingWorker worker = RingWorker.current(Connection.this);
            if (worker != null) {
                worker.deferReset(reason); // this thread holds a serve lock: see the lock order
            } else {
                needsReset(reason);
            }
        }
    }
}
