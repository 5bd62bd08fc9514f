package org.jvirtio.transport.vhostuser.internal;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.jvirtio.api.device.DeviceActivation;
import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.nativeio.Epoll;
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
 * <p><b>Threads.</b> The message thread and one kick thread ({@link KickLoop}: an {@link Epoll} over
 * the kick eventfds of all rings) share {@link #lock}. The kick thread holds it while the device serves
 * a queue in {@code queueNotified}; every handler runs under it. So rings are plugged, replaced and
 * stopped, and memory tables swapped, only while no device code runs on the kick thread.
 *
 * <p><b>When old memory is unmapped.</b> A memory-table change installs the new map in the
 * {@link SwappableGuestMemory} and rebuilds every started ring over it (at its current positions) under
 * the lock. A ring whose device still holds chains (in flight, completed later from another thread)
 * keeps its old ring views; then the dropped regions are only retired, and unmapped at the first moment
 * (checked after every served kick, at every table change and at disconnect) when no ring holds a
 * chain. A device that touches guest memory outside {@code queueNotified} without holding a chain
 * breaks this rule; the device SPI asks devices to serve queues on the notifying thread.
 */
public final class Connection implements Runnable {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.vhostuser");
    static final long F_PROTOCOL_FEATURES = 1L << ProtocolFeature.F_PROTOCOL_FEATURES;

    final Object lock = new Object();
    final VirtioDevice device;
    final String name;
    private final UnixSocket socket;
    final Epoll epoll;
    private final KickLoop kickLoop;
    final VringState[] rings;
    final SwappableGuestMemory memory = new SwappableGuestMemory(GuestMemoryMap.EMPTY);
    private final Handlers handlers;
    private final Notifier notifier = new Notifier();
    private final Activation activation = new Activation();

    MemoryTable table = MemoryTable.EMPTY;
    final List<MemoryRegion> retired = new ArrayList<>();
    long ackedFeatures;
    long protocolFeatures;
    int status;
    boolean needsReset;
    boolean active;
    InflightArea inflight;
    private volatile boolean closing;
    private String broken;

    public Connection(VirtioDevice device, UnixSocket socket, String name) throws NativeException {
        this.device = device;
        this.socket = socket;
        this.name = name;
        int count = Math.min(device.queueCount(), 256);
        this.rings = new VringState[count];
        for (int i = 0; i < count; i++) {
            rings[i] = new VringState(i);
        }
        this.epoll = Epoll.create();
        this.kickLoop = new KickLoop(this);
        this.handlers = new Handlers(this);
    }

    /** Serves the connection until the peer leaves or breaks the protocol; then resets the device. */
    @Override
    public void run() {
        Thread kicks = new Thread(kickLoop, "vhost-user-kick " + name);
        kicks.setDaemon(true);
        kicks.start();
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
            shutdown(kicks);
        }
    }

    /** Ends the connection from another thread (server shutdown). */
    public void close() {
        closing = true;
        socket.close();
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

    /** Called by the kick thread for a readable kick eventfd. */
    void serveKick(int tag) {
        synchronized (lock) {
            int index = VringState.indexOf(tag);
            if (closing || index >= rings.length) {
                return;
            }
            VringState ring = rings[index];
            if (ring.kick == null || ring.kickTag() != tag) {
                return; // a descriptor replaced since epoll reported it
            }
            try {
                ring.kick.read();
            } catch (NativeException | RuntimeException e) {
                removeKick(ring);
                needsReset("ring " + index + ": cannot read its kick descriptor: " + e.getMessage());
                return;
            }
            if (ring.slot.vring() == null) {
                return; // stopped or disabled: the kick is dropped; starting the ring re-kicks it
            }
            try {
                device.queueNotified(index);
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, name + ": device failed serving queue " + index, e);
                needsReset("device failed serving queue " + index + ": " + e);
                return;
            }
            QueueError error = ring.slot.error();
            if (error != QueueError.NONE) {
                needsReset("queue " + index + ": " + error.description());
            }
            releaseRetired();
        }
    }

    void removeKick(VringState ring) {
        if (ring.kick != null) {
            try {
                epoll.remove(ring.kick.fd());
            } catch (NativeException | RuntimeException e) {
                LOG.log(Level.DEBUG, "{0}: epoll remove: {1}", name, e.getMessage());
            }
            ring.kick.close();
            ring.kick = null;
        }
    }

    // ------------------------------------------------------------------ device state

    /** The device (or this transport) found an error only a reset cures: stop the queues, report it. */
    void needsReset(String reason) {
        synchronized (lock) {
            LOG.log(Level.WARNING, "{0}: device needs reset: {1}", name, reason);
            needsReset = true;
            for (VringState ring : rings) {
                ring.slot.unplug();
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

    /** Activates the device when its first ring runs. */
    void ensureActive() {
        if (active || needsReset) {
            return;
        }
        try {
            device.activate(activation);
            active = true;
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

    /** Unmaps retired regions once no ring holds a chain that may point into them. */
    void releaseRetired() {
        if (retired.isEmpty()) {
            return;
        }
        for (VringState ring : rings) {
            if (ring.vring != null && ring.vring.inFlight() > 0) {
                return;
            }
        }
        retired.forEach(MemoryRegion::close);
        retired.clear();
    }

    GuestMemory memory() {
        return memory;
    }

    boolean isClosing() {
        return closing;
    }

    private void shutdown(Thread kicks) {
        closing = true;
        epoll.close();
        try {
            kicks.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (lock) {
            for (VringState ring : rings) {
                ring.slot.unplug();
                ring.vring = null;
            }
            resetDevice();
            for (VringState ring : rings) {
                removeKick(ring);
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
            if (!closing) {
                needsReset(reason);
            }
        }
    }
}
