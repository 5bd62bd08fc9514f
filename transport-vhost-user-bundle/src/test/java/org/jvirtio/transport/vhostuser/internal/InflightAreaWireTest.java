package org.jvirtio.transport.vhostuser.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.AbstractVirtioDevice;
import org.jvirtio.api.device.DeviceActivation;
import org.jvirtio.nativeio.EventFd;
import org.jvirtio.nativeio.MappedMemory;
import org.jvirtio.nativeio.Memfd;
import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.nativeio.UnixSocket;
import org.jvirtio.transport.vhostuser.VhostUserBackend;

/**
 * A front end hands over (SET_INFLIGHT_FD) an in-flight area whose packed region contradicts itself:
 * the ring's start (SET_VRING_KICK) is refused with a REPLY_ACK failure, the connection goes on (the
 * same ring starts once the area is sane), and the server serves the next front end. An area of the
 * wrong version is not used at all: the ring starts untracked.
 */
@Timeout(60)
class InflightAreaWireTest {
    private static final long REGION = 1 << 20;
    private static final long GPA = 0x100000;
    private static final long UVA = 0x7f0000000000L;
    private static final int SIZE = 16;
    private static final long FEATURES = VirtioFeature.of(VirtioFeature.VERSION_1, VirtioFeature.RING_PACKED);

    @TempDir
    Path dir;
    Path socket;
    VhostUserBackend backend;

    /** A device that never touches its queue. */
    static final class IdleDevice extends AbstractVirtioDevice {
        IdleDevice() {
            super(0x7f, new int[] {256}, FEATURES);
        }

        @Override
        protected byte[] configSpace() {
            return new byte[0];
        }

        @Override
        protected void onActivate(long features, DeviceActivation activation) {
        }

        @Override
        protected void onReset() {
        }

        @Override
        public void queueNotified(int index) {
        }
    }

    /** Hand-made messages over the socket. */
    static final class Peer implements AutoCloseable {
        final UnixSocket socket;

        Peer(Path path) throws IOException {
            socket = UnixSocket.connect(path);
            socket.setReceiveTimeout(Duration.ofSeconds(10));
        }

        long u64Request(Request request) throws IOException {
            Message.write(socket, request.code(), Message.VERSION, Message.allocate(0));
            Message m = Message.read(socket);
            m.closeFds();
            return m.payload().getLong(0);
        }

        long acked(Request request, ByteBuffer payload, NativeFd... fds) throws IOException {
            Message.write(socket, request.code(), Message.VERSION | Message.FLAG_NEED_REPLY, payload, fds);
            Message m = Message.read(socket);
            assertThat(m).as("reply to %s", request).isNotNull();
            m.closeFds();
            return m.payload().getLong(0);
        }

        Peer packedHandshake() throws IOException {
            assertThat(u64Request(Request.GET_FEATURES) & FEATURES).isEqualTo(FEATURES);
            u64Request(Request.GET_PROTOCOL_FEATURES);
            Message.write(socket, Request.SET_PROTOCOL_FEATURES.code(), Message.VERSION, u64(ProtocolFeature.SUPPORTED));
            assertThat(acked(Request.SET_FEATURES, u64(FEATURES | Connection.F_PROTOCOL_FEATURES))).isZero();
            return this;
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    static ByteBuffer u64(long v) {
        ByteBuffer b = Message.allocate(8);
        b.putLong(0, v);
        return b;
    }

    static ByteBuffer state(int index, int num) {
        ByteBuffer b = Message.allocate(8);
        b.putInt(0, index).putInt(4, num);
        return b;
    }

    @BeforeEach
    void start() throws IOException {
        socket = dir.resolve("inflight.sock");
        backend = VhostUserBackend.start(new IdleDevice(), socket);
    }

    @AfterEach
    void serverStillServes() throws Exception {
        try {
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (backend.isConnected() && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            try (Peer next = new Peer(socket)) {
                assertThat(next.u64Request(Request.GET_FEATURES) & FEATURES).isEqualTo(FEATURES);
            }
        } finally {
            backend.close();
        }
    }

    /** Memory table, ring size, base and addresses of ring 0: everything but the kick. */
    private static void prepareRing(Peer peer, NativeFd memory) throws IOException {
        ByteBuffer table = Message.allocate(8 + 32);
        table.putInt(0, 1).putLong(8, GPA).putLong(16, REGION).putLong(24, UVA).putLong(32, 0);
        assertThat(peer.acked(Request.SET_MEM_TABLE, table, memory)).isZero();
        assertThat(peer.acked(Request.SET_VRING_NUM, state(0, SIZE))).isZero();
        assertThat(peer.acked(Request.SET_VRING_BASE, state(0, InflightRig.PACKED_START))).isZero();
        ByteBuffer addr = Message.allocate(40);
        addr.putInt(0, 0).putLong(8, UVA).putLong(16, UVA + 0x2000).putLong(24, UVA + 0x1000);
        assertThat(peer.acked(Request.SET_VRING_ADDR, addr)).isZero();
    }

    private static long setInflight(Peer peer, NativeFd fd, long size) throws IOException {
        ByteBuffer shape = Message.allocate(24);
        shape.putLong(0, size).putLong(8, 0).putShort(16, (short) 1).putShort(18, (short) SIZE);
        return peer.acked(Request.SET_INFLIGHT_FD, shape, fd);
    }

    @Test
    void contradictoryAreaRefusesTheRingStartAndTheConnectionGoesOn() throws Exception {
        long total = InflightArea.totalSize(1, SIZE, true);
        try (Peer peer = new Peer(socket).packedHandshake(); NativeFd memory = Memfd.create("mem", REGION);
                NativeFd areaFd = Memfd.create("inflight", total);
                MappedMemory mapping = MappedMemory.map(areaFd, 0, total, true);
                EventFd kick = EventFd.create(true)) {
            InflightArea area = new InflightArea(mapping, 1, SIZE, true);
            area.initialize();
            ByteBuffer region = area.region(0);
            // entry 0 in flight (fetched, off the free list) as a chain of 0 descriptors
            region.put(32, (byte) 1).putLong(32 + 8, 1).putShort(32 + 6, (short) 0);
            region.putShort(12, (short) 1).putShort(14, (short) 1);
            prepareRing(peer, memory);
            assertThat(setInflight(peer, areaFd, total)).isZero();
            assertThat(peer.acked(Request.SET_VRING_KICK, u64(0), kick.fd())).as("ring start refused").isNotZero();
            assertThat(peer.u64Request(Request.GET_QUEUE_NUM)).isEqualTo(1);

            // the front end repairs the area (its memfd is shared): the same ring starts
            region.put(32, (byte) 0).putLong(32 + 8, 0);
            region.putShort(12, (short) 0).putShort(14, (short) 0);
            assertThat(peer.acked(Request.SET_VRING_KICK, u64(0), kick.fd())).as("ring starts").isZero();
            assertThat(peer.u64Request(Request.GET_QUEUE_NUM)).isEqualTo(1);
        }
    }

    @Test
    void freeListThatLoopsRefusesTheRingStart() throws Exception {
        long total = InflightArea.totalSize(1, SIZE, true);
        try (Peer peer = new Peer(socket).packedHandshake(); NativeFd memory = Memfd.create("mem", REGION);
                NativeFd areaFd = Memfd.create("inflight", total);
                MappedMemory mapping = MappedMemory.map(areaFd, 0, total, true);
                EventFd kick = EventFd.create(true)) {
            InflightArea area = new InflightArea(mapping, 1, SIZE, true);
            area.initialize();
            area.region(0).putShort(32 + 32 * 5 + 2, (short) 2); // entry 5 links back to entry 2
            prepareRing(peer, memory);
            assertThat(setInflight(peer, areaFd, total)).isZero();
            assertThat(peer.acked(Request.SET_VRING_KICK, u64(0), kick.fd())).isNotZero();
            assertThat(peer.u64Request(Request.GET_QUEUE_NUM)).isEqualTo(1);
        }
    }

    @Test
    void areaOfAnotherVersionIsNotUsed() throws Exception {
        long total = InflightArea.totalSize(1, SIZE, true);
        try (Peer peer = new Peer(socket).packedHandshake(); NativeFd memory = Memfd.create("mem", REGION);
                NativeFd areaFd = Memfd.create("inflight", total);
                MappedMemory mapping = MappedMemory.map(areaFd, 0, total, true);
                EventFd kick = EventFd.create(true)) {
            InflightArea area = new InflightArea(mapping, 1, SIZE, true);
            area.initialize();
            ByteBuffer region = area.region(0);
            region.putShort(InflightArea.VERSION_OFFSET, (short) 7);
            region.put(32, (byte) 1).putLong(32 + 8, 1).putShort(32 + 6, (short) 0); // would be refused
            prepareRing(peer, memory);
            assertThat(setInflight(peer, areaFd, total)).isZero();
            assertThat(peer.acked(Request.SET_VRING_KICK, u64(0), kick.fd())).as("started untracked").isZero();
            assertThat(peer.u64Request(Request.GET_QUEUE_NUM)).isEqualTo(1);
        }
    }
}
