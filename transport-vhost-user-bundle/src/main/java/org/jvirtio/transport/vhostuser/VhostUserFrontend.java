package org.jvirtio.transport.vhostuser;

import java.io.IOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.nativeio.EventFd;
import org.jvirtio.nativeio.MappedMemory;
import org.jvirtio.nativeio.Memfd;
import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.nativeio.UnixServerSocket;
import org.jvirtio.nativeio.UnixSocket;
import org.jvirtio.transport.vhostuser.internal.Message;
import org.jvirtio.transport.vhostuser.internal.ProtocolFeature;
import org.jvirtio.transport.vhostuser.internal.Request;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.VringSetupException;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.memory.GuestMemoryMap;
import org.jvirtio.vring.memory.GuestRegion;

/**
 * The driver side of vhost-user in Java: owns "guest" memory (one memfd), negotiates features and
 * protocol features with a back end, sends the memory table, sets up split or packed rings and their
 * kick and call eventfds the way QEMU does, and exposes the rings as {@link DriverQueue}s. Every
 * request goes with NEED_REPLY once REPLY_ACK is negotiated, so a refusal surfaces as an IOException.
 *
 * <p>Not thread-safe. Guest addresses start at {@link #GUEST_BASE}; the "user addresses" sent in the
 * memory table and ring addresses are a separate fake range at {@link #USER_BASE}, so a back end that
 * confused the two would fail.
 */
public final class VhostUserFrontend implements AutoCloseable {
    public static final long GUEST_BASE = 0x10_0000L;
    public static final long USER_BASE = 0x7f12_3400_0000L;
    private static final long PACKED_INITIAL_BASE = 0x8000L | 0x8000L << 16;

    /** What to set up. */
    public static final class Options {
        long memorySize = 16L << 20;
        int queueCount = 1;
        int queueSize = 256;
        long features = VirtioFeature.bit(VirtioFeature.VERSION_1);
        long protocolFeatures = ProtocolFeature.SUPPORTED;
        boolean inflight;
        Duration replyTimeout = Duration.ofSeconds(30);

        public Options memorySize(long bytes) {
            this.memorySize = bytes;
            return this;
        }

        public Options queues(int count, int size) {
            this.queueCount = count;
            this.queueSize = size;
            return this;
        }

        /** Device features the driver wants (masked with what the back end offers). */
        public Options features(long wanted) {
            this.features = wanted;
            return this;
        }

        /** Protocol features the driver wants (masked with what the back end offers). */
        public Options protocolFeatures(long wanted) {
            this.protocolFeatures = wanted;
            return this;
        }

        /** Asks for an in-flight area (GET/SET_INFLIGHT_FD). */
        public Options inflight(boolean on) {
            this.inflight = on;
            return this;
        }

        /**
         * How long to wait for each reply (default 30 s): a back end that stops answering fails the
         * request with {@link SocketTimeoutException} instead of hanging the caller.
         */
        public Options replyTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("reply timeout must be positive: " + timeout);
            }
            this.replyTimeout = timeout;
            return this;
        }
    }

    private final Path path;
    private final Options options;
    private final NativeFd memoryFd;
    private final MappedMemory mapping;
    private final GuestMemoryMap memory;
    private final List<DriverQueue> queues = new ArrayList<>();
    private final List<QueueConfig> configs = new ArrayList<>();
    private final List<EventFd> kicks = new ArrayList<>();
    private final List<EventFd> calls = new ArrayList<>();
    private final int[] bases;
    private boolean basesSaved;
    private long nextFree;
    private UnixSocket socket;
    private long offeredFeatures;
    private long offeredProtocolFeatures;
    private long features;
    private long protocolFeatures;
    private long queueNum = -1;
    private NativeFd inflightFd;
    private ByteBuffer inflightShape;

    private VhostUserFrontend(Path path, Options options) throws IOException {
        this.path = path;
        this.options = options;
        this.memoryFd = Memfd.create("jvirtio-frontend", options.memorySize);
        this.mapping = MappedMemory.map(memoryFd, 0, options.memorySize, true);
        this.memory = GuestMemoryMap.of(new GuestRegion(GUEST_BASE, options.memorySize, mapping, 0));
        this.nextFree = GUEST_BASE;
        this.bases = new int[options.queueCount];
    }

    /** Connects to the back end at {@code path} and brings the device up with {@code options}. */
    public static VhostUserFrontend connect(Path path, Options options) throws IOException {
        return bringUp(new VhostUserFrontend(path, options), () -> UnixSocket.connect(path));
    }

    /**
     * Plays QEMU's {@code server=on}: listens at {@code path}, accepts one back end (a client-mode
     * {@link VhostUserBackend}) within {@code timeout}, stops listening (the socket file goes) and brings
     * the device up with {@code options}. {@link #reconnect()} connects out, so it is for front ends made
     * by {@link #connect}; to meet a client-mode back end again, close this one and accept anew.
     *
     * @throws SocketTimeoutException if no back end connected in time
     */
    public static VhostUserFrontend accept(Path path, Options options, Duration timeout) throws IOException {
        return bringUp(new VhostUserFrontend(path, options), () -> acceptOne(path, timeout));
    }

    /** Where the connection to the back end comes from. */
    private interface SocketSource {
        UnixSocket open() throws IOException;
    }

    private static VhostUserFrontend bringUp(VhostUserFrontend frontend, SocketSource source) throws IOException {
        try {
            frontend.attach(source.open());
            frontend.negotiate();
            frontend.createQueues();
            frontend.startDevice();
            return frontend;
        } catch (IOException | RuntimeException e) {
            frontend.close();
            throw e;
        }
    }

    private void attach(UnixSocket connected) throws IOException {
        socket = connected;
        socket.setReceiveTimeout(options.replyTimeout);
    }

    /** One connection on a fresh listening socket; a watchdog closes the listener at the deadline. */
    private static UnixSocket acceptOne(Path path, Duration timeout) throws IOException {
        try (UnixServerSocket server = UnixServerSocket.bind(path, 1)) {
            CountDownLatch accepted = new CountDownLatch(1);
            Thread watchdog = new Thread(() -> {
                try {
                    if (!accepted.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                        server.close(); // wakes the accept below
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "frontend-accept-timeout " + path.getFileName());
            watchdog.setDaemon(true);
            watchdog.start();
            try {
                return server.accept();
            } catch (SocketException e) {
                SocketTimeoutException timedOut = new SocketTimeoutException("no back end connected to " + path
                        + " within " + timeout);
                timedOut.initCause(e);
                throw timedOut;
            } finally {
                accepted.countDown();
                joinQuietly(watchdog);
            }
        }
    }

    private static void joinQuietly(Thread thread) {
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void negotiate() throws IOException {
        offeredFeatures = requestU64(Request.GET_FEATURES);
        long wanted = options.features & offeredFeatures;
        if ((offeredFeatures & 1L << ProtocolFeature.F_PROTOCOL_FEATURES) != 0) {
            offeredProtocolFeatures = requestU64(Request.GET_PROTOCOL_FEATURES);
            long p = options.protocolFeatures & offeredProtocolFeatures;
            send(Request.SET_PROTOCOL_FEATURES, u64(p));
            protocolFeatures = p;
            wanted |= 1L << ProtocolFeature.F_PROTOCOL_FEATURES;
        }
        send(Request.SET_OWNER, Message.allocate(0));
        if (ProtocolFeature.has(protocolFeatures, ProtocolFeature.MQ)) {
            queueNum = requestU64(Request.GET_QUEUE_NUM);
            if (queueNum < options.queueCount) {
                throw new IOException("back end has " + queueNum + " queues, " + options.queueCount + " wanted");
            }
        }
        send(Request.SET_FEATURES, u64(wanted));
        features = wanted & ~(1L << ProtocolFeature.F_PROTOCOL_FEATURES);
        if (ProtocolFeature.has(protocolFeatures, ProtocolFeature.STATUS)) {
            send(Request.SET_STATUS, u64(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK));
        }
        ByteBuffer table = Message.allocate(8 + 32);
        table.putInt(0, 1).putLong(8, GUEST_BASE).putLong(16, options.memorySize).putLong(24, USER_BASE).putLong(32, 0);
        send(Request.SET_MEM_TABLE, table, memoryFd);
    }

    private void createQueues() throws IOException {
        boolean packed = VirtioFeature.has(features, VirtioFeature.RING_PACKED);
        int n = options.queueSize;
        for (int i = 0; i < options.queueCount; i++) {
            long desc = allocate(16L * n, 4096);
            long driver = allocate(packed ? 4 : 6 + 2L * n, 4096);
            long device = allocate(packed ? 4 : 6 + 8L * n, 4096);
            QueueConfig config = new QueueConfig(n, desc, driver, device);
            try {
                queues.add(Vrings.driver(config, features, memory));
            } catch (VringSetupException e) {
                throw new IOException("queue " + i + ": " + e.getMessage(), e);
            }
            configs.add(config);
            kicks.add(EventFd.create(true));
            calls.add(EventFd.create(true));
            bases[i] = packed ? (int) PACKED_INITIAL_BASE : 0;
        }
    }

    /** Memory table is sent; now in-flight area, rings, enable, DRIVER_OK, as QEMU's vhost_dev_start. */
    private void startDevice() throws IOException {
        if (options.inflight && ProtocolFeature.has(protocolFeatures, ProtocolFeature.INFLIGHT_SHMFD)) {
            if (inflightFd == null) {
                ByteBuffer ask = Message.allocate(24);
                ask.putShort(16, (short) options.queueCount).putShort(18, (short) options.queueSize);
                List<NativeFd> fds = new ArrayList<>();
                ByteBuffer reply = request(Request.GET_INFLIGHT_FD, ask, fds);
                if (fds.size() != 1 || reply.limit() != 24) {
                    fds.forEach(NativeFd::close);
                    throw new IOException("GET_INFLIGHT_FD: bad reply");
                }
                inflightFd = fds.get(0);
                inflightShape = reply;
            }
            send(Request.SET_INFLIGHT_FD, inflightShape, inflightFd);
        }
        for (int i = 0; i < queues.size(); i++) {
            QueueConfig config = configs.get(i);
            send(Request.SET_VRING_NUM, state(i, config.size()));
            send(Request.SET_VRING_BASE, state(i, bases[i]));
            ByteBuffer addr = Message.allocate(40);
            addr.putInt(0, i).putInt(4, 0).putLong(8, user(config.descriptorTable()))
                    .putLong(16, user(config.deviceArea())).putLong(24, user(config.driverArea())).putLong(32, 0);
            send(Request.SET_VRING_ADDR, addr);
            send(Request.SET_VRING_KICK, u64(i), kicks.get(i).fd());
            send(Request.SET_VRING_CALL, u64(i), calls.get(i).fd());
        }
        if (ProtocolFeature.has(protocolFeatures | offeredFeatures, ProtocolFeature.F_PROTOCOL_FEATURES)) {
            for (int i = 0; i < queues.size(); i++) {
                send(Request.SET_VRING_ENABLE, state(i, 1));
            }
        }
        if (ProtocolFeature.has(protocolFeatures, ProtocolFeature.STATUS)) {
            send(Request.SET_STATUS, u64(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK
                    | DeviceStatus.DRIVER_OK));
        }
        basesSaved = false;
    }

    private static long user(long guestAddress) {
        return guestAddress - GUEST_BASE + USER_BASE;
    }

    /** Reserves {@code size} bytes of guest memory aligned to {@code align} (a power of two); returns its address. */
    public long allocate(long size, long align) {
        long at = (nextFree + align - 1) & -align;
        if (size < 0 || at + size > GUEST_BASE + options.memorySize) {
            throw new IllegalStateException("guest memory exhausted");
        }
        nextFree = at + size;
        return at;
    }

    public GuestMemory memory() {
        return memory;
    }

    public DriverQueue queue(int index) {
        return queues.get(index);
    }

    /** The device features negotiated (without bit 30). */
    public long features() {
        return features;
    }

    public long protocolFeatures() {
        return protocolFeatures;
    }

    /** What GET_FEATURES answered: every device feature the back end offers (bit 30 included). */
    public long offeredFeatures() {
        return offeredFeatures;
    }

    /** What GET_PROTOCOL_FEATURES answered, or 0 if the back end offers no protocol features. */
    public long offeredProtocolFeatures() {
        return offeredProtocolFeatures;
    }

    /** What GET_QUEUE_NUM answered, or -1 without MQ. */
    public long queueNum() {
        return queueNum;
    }

    /** Notifies the back end that buffers are available on {@code index}. */
    public void kick(int index) throws IOException {
        kicks.get(index).signal();
    }

    /** Waits until the back end signals the call eventfd of {@code index}; false on timeout. */
    public boolean awaitCall(int index, long timeoutMillis) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        EventFd call = calls.get(index);
        while (call.read() == 0) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            LockSupport.parkNanos(50_000);
        }
        return true;
    }

    /** GET_CONFIG; an empty reply (the back end's error) is an IOException. */
    public byte[] getConfig(int offset, int size) throws IOException {
        ByteBuffer ask = Message.allocate(12 + size);
        ask.putInt(0, offset).putInt(4, size).putInt(8, 0);
        ByteBuffer reply = request(Request.GET_CONFIG, ask, null);
        if (reply.limit() != 12 + size) {
            throw new IOException("GET_CONFIG refused");
        }
        byte[] bytes = new byte[size];
        reply.get(12, bytes);
        return bytes;
    }

    public void setConfig(int offset, byte[] data) throws IOException {
        ByteBuffer msg = Message.allocate(12 + data.length);
        msg.putInt(0, offset).putInt(4, data.length).putInt(8, 0).put(12, data);
        send(Request.SET_CONFIG, msg);
    }

    /** The memfd of the guest memory, for tests that misbehave with it (truncate it under the back end). */
    NativeFd memoryFd() {
        return memoryFd;
    }

    public long status() throws IOException {
        return requestU64(Request.GET_STATUS);
    }

    /** Stops every ring (GET_VRING_BASE) and returns where each stopped; a later {@link #reconnect} resumes there. */
    public int[] stop() throws IOException {
        for (int i = 0; i < queues.size(); i++) {
            ByteBuffer reply = request(Request.GET_VRING_BASE, state(i, 0), null);
            if (reply.limit() != 8 || reply.getInt(0) != i) {
                throw new IOException("GET_VRING_BASE: bad reply");
            }
            bases[i] = reply.getInt(4);
        }
        basesSaved = true;
        return bases.clone();
    }

    /**
     * Drops the connection and connects again, keeping memory, rings and their state: negotiates,
     * sends the memory table (and the in-flight area, if any), and restarts every ring. Without a
     * prior {@link #stop} this does what QEMU does when the back end went away: split rings resume at
     * the used index the device published; packed rings, which have no such index in shared memory,
     * are sent the base of their last start again. Requests still in flight are the back end's to
     * recover from the in-flight area.
     */
    public void reconnect() throws IOException {
        socket.close();
        if (!basesSaved && !VirtioFeature.has(features, VirtioFeature.RING_PACKED)) {
            for (int i = 0; i < configs.size(); i++) {
                bases[i] = memory.getShort(configs.get(i).deviceArea() + 2) & 0xFFFF;
            }
        }
        attach(UnixSocket.connect(path));
        negotiate();
        startDevice();
    }

    // ------------------------------------------------------------------ messages

    private static ByteBuffer u64(long value) {
        ByteBuffer b = Message.allocate(8);
        b.putLong(0, value);
        return b;
    }

    private static ByteBuffer state(int index, int num) {
        ByteBuffer b = Message.allocate(8);
        b.putInt(0, index).putInt(4, num);
        return b;
    }

    private boolean replyAck() {
        return ProtocolFeature.has(protocolFeatures, ProtocolFeature.REPLY_ACK);
    }

    /** Sends a request without a reply body; with REPLY_ACK waits for the ack and fails on non-zero. */
    private void send(Request request, ByteBuffer payload, NativeFd... fds) throws IOException {
        int flags = Message.VERSION | (replyAck() ? Message.FLAG_NEED_REPLY : 0);
        Message.write(socket, request.code(), flags, payload, fds);
        if (replyAck()) {
            ByteBuffer ack = readReply(request, null);
            if (ack.limit() != 8 || ack.getLong(0) != 0) {
                throw new IOException(request + " refused by the back end");
            }
        }
    }

    private long requestU64(Request request) throws IOException {
        ByteBuffer reply = request(request, Message.allocate(0), null);
        if (reply.limit() != 8) {
            throw new IOException(request + ": reply of " + reply.limit() + " bytes");
        }
        return reply.getLong(0);
    }

    /** Sends a request that has a reply body and returns it (descriptors into {@code fds}). */
    private ByteBuffer request(Request request, ByteBuffer payload, List<NativeFd> fds) throws IOException {
        Message.write(socket, request.code(), Message.VERSION, payload);
        return readReply(request, fds);
    }

    private ByteBuffer readReply(Request request, List<NativeFd> fds) throws IOException {
        Message reply = Message.read(socket);
        if (reply == null) {
            throw new IOException(request + ": the back end closed the connection");
        }
        try {
            if (reply.request() != request.code() || (reply.flags() & Message.FLAG_REPLY) == 0) {
                throw new IOException(request + ": unexpected reply " + reply.request());
            }
            if (fds != null) {
                for (int i = 0; i < reply.fdCount(); i++) {
                    fds.add(reply.takeFd(i));
                }
            }
            return reply.payload();
        } finally {
            reply.closeFds();
        }
    }

    /** Disconnects and releases memory and eventfds. */
    @Override
    public void close() {
        if (socket != null) {
            socket.close();
        }
        kicks.forEach(EventFd::close);
        calls.forEach(EventFd::close);
        if (inflightFd != null) {
            inflightFd.close();
        }
        mapping.close();
        memoryFd.close();
    }
}
