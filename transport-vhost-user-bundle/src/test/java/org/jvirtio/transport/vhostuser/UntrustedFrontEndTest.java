package org.jvirtio.transport.vhostuser;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

import org.jvirtio.api.DeviceStatus;
import org.jvirtio.nativeio.EventFd;
import org.jvirtio.nativeio.Memfd;
import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.transport.vhostuser.internal.Message;
import org.jvirtio.transport.vhostuser.internal.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A front end that sends nonsense: each bad message is refused (REPLY_ACK non-zero) with the
 * connection going on, or ends the connection with a logged reason; never an exception out of the
 * server, which then serves the next front end.
 */
class UntrustedFrontEndTest {
    private static final long REGION = 1 << 20;
    private static final long GPA = 0x100000;
    private static final long UVA = 0x7f0000000000L;

    @TempDir
    Path dir;
    EchoDevice device;
    VhostUserBackend backend;
    Path socket;

    @BeforeEach
    void start() throws IOException {
        device = new EchoDevice(2);
        socket = dir.resolve("bad.sock");
        backend = VhostUserBackend.start(device, socket);
    }

    @AfterEach
    void serverStillServes() throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (backend.isConnected() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        try (VhostUserFrontend fe = VhostUserFrontend.connect(socket, new VhostUserFrontend.Options())) {
            new Traffic(fe, 0).run(10);
        } finally {
            backend.close();
        }
    }

    /** The connection still answers after a refusal. */
    private static void stillAlive(RawPeer peer) throws IOException {
        assertThat(peer.u64Request(Request.GET_QUEUE_NUM)).isEqualTo(2);
    }

    private static ByteBuffer memTable(long... regions) {
        int n = regions.length / 4;
        ByteBuffer b = Message.allocate(8 + 32 * n);
        b.putInt(0, n);
        for (int i = 0; i < regions.length; i++) {
            b.putLong(8 + 8 * i, regions[i]);
        }
        return b;
    }

    @Test
    void wrongPayloadSizeIsRefused() throws IOException {
        try (RawPeer peer = new RawPeer(socket).handshake()) {
            assertThat(peer.sendAcked(Request.SET_FEATURES.code(), Message.allocate(4))).isNotZero();
            assertThat(peer.sendAcked(Request.SET_VRING_NUM.code(), Message.allocate(12))).isNotZero();
            assertThat(peer.sendAcked(Request.SET_MEM_TABLE.code(), memTable(GPA, REGION, UVA, 0).limit(20))).isNotZero();
            stillAlive(peer);
        }
    }

    @Test
    void unexpectedDescriptorsAreRefusedAndClosed() throws IOException {
        try (RawPeer peer = new RawPeer(socket).handshake(); EventFd e = EventFd.create(true)) {
            assertThat(peer.sendAcked(Request.SET_FEATURES.code(), RawPeer.u64(1L << 32), e.fd())).isNotZero();
            assertThat(peer.sendAcked(Request.SET_VRING_NUM.code(), RawPeer.state(0, 64), e.fd(), e.fd())).isNotZero();
            stillAlive(peer);
        }
    }

    @Test
    void tooFewDescriptorsAreRefused() throws IOException {
        try (RawPeer peer = new RawPeer(socket).handshake()) {
            assertThat(peer.sendAcked(Request.SET_MEM_TABLE.code(), memTable(GPA, REGION, UVA, 0))).isNotZero();
            assertThat(peer.sendAcked(Request.SET_VRING_KICK.code(), RawPeer.u64(0))).isNotZero();
            assertThat(peer.sendAcked(Request.SET_INFLIGHT_FD.code(), Message.allocate(24))).isNotZero();
            stillAlive(peer);
        }
    }

    @Test
    void moreThanEightDescriptorsEndTheConnection() throws IOException {
        try (RawPeer peer = new RawPeer(socket).handshake(); EventFd e = EventFd.create(true)) {
            NativeFd[] nine = new NativeFd[9];
            java.util.Arrays.fill(nine, e.fd());
            peer.send(Request.SET_OWNER.code(), Message.VERSION | Message.FLAG_NEED_REPLY, Message.allocate(0), nine);
            assertThat(peer.read()).isNull();
        }
    }

    @Test
    void unknownRequestIsRefused() throws IOException {
        try (RawPeer peer = new RawPeer(socket).handshake()) {
            assertThat(peer.sendAcked(99, RawPeer.u64(0))).isNotZero();
            assertThat(peer.sendAcked(Request.SET_VRING_ENABLE.code() + 1, RawPeer.u64(0))).isNotZero(); // SEND_RARP
            stillAlive(peer);
        }
    }

    @Test
    void requestWithoutItsProtocolFeatureIsRefused() throws IOException {
        try (RawPeer peer = new RawPeer(socket)) {
            peer.u64Request(Request.GET_FEATURES);
            peer.send(Request.SET_PROTOCOL_FEATURES.code(), Message.VERSION, RawPeer.u64(1L << 3)); // REPLY_ACK only
            assertThat(peer.sendAcked(Request.SET_STATUS.code(), RawPeer.u64(1))).isNotZero();
        }
    }

    @Test
    void vringIndexOutOfRangeIsRefused() throws IOException {
        try (RawPeer peer = new RawPeer(socket).handshake(); EventFd e = EventFd.create(true)) {
            assertThat(peer.sendAcked(Request.SET_VRING_NUM.code(), RawPeer.state(2, 64))).isNotZero();
            assertThat(peer.sendAcked(Request.SET_VRING_ENABLE.code(), RawPeer.state(-1, 1))).isNotZero();
            assertThat(peer.sendAcked(Request.SET_VRING_CALL.code(), RawPeer.u64(7), e.fd())).isNotZero();
            assertThat(peer.sendAcked(Request.SET_VRING_NUM.code(), RawPeer.state(0, 4096))).isNotZero(); // over max
            stillAlive(peer);
        }
    }

    @Test
    void getVringBaseOutOfRangeEndsTheConnection() throws IOException {
        try (RawPeer peer = new RawPeer(socket).handshake()) {
            peer.send(Request.GET_VRING_BASE.code(), Message.VERSION, RawPeer.state(5, 0));
            assertThat(peer.read()).isNull();
        }
    }

    @Test
    void badFramingEndsTheConnection() throws IOException {
        try (RawPeer peer = new RawPeer(socket)) {
            peer.send(Request.GET_FEATURES.code(), 2, Message.allocate(0)); // version 2
            assertThat(peer.read()).isNull();
        }
        try (RawPeer peer = new RawPeer(socket)) {
            ByteBuffer header = Message.allocate(12);
            header.putInt(0, Request.SET_OWNER.code()).putInt(4, 1).putInt(8, 1 << 20);
            peer.socket.send(header);
            assertThat(peer.read()).isNull();
        }
    }

    @Test
    void overlappingRegionsAreRefused() throws IOException {
        try (RawPeer peer = new RawPeer(socket).handshake();
                NativeFd a = Memfd.create("a", REGION); NativeFd b = Memfd.create("b", REGION)) {
            ByteBuffer gpaOverlap = memTable(GPA, REGION, UVA, 0, GPA + REGION / 2, REGION, UVA + 4 * REGION, 0);
            assertThat(peer.sendAcked(Request.SET_MEM_TABLE.code(), gpaOverlap, a, b)).isNotZero();
            ByteBuffer uvaOverlap = memTable(GPA, REGION, UVA, 0, GPA + 4 * REGION, REGION, UVA + 4096, 0);
            assertThat(peer.sendAcked(Request.SET_MEM_TABLE.code(), uvaOverlap, a, b)).isNotZero();
            stillAlive(peer);
        }
    }

    @Test
    void unmappableRegionsAreRefused() throws IOException {
        try (RawPeer peer = new RawPeer(socket).handshake(); EventFd e = EventFd.create(true);
                NativeFd small = Memfd.create("small", 4096)) {
            // not a file at all
            assertThat(peer.sendAcked(Request.SET_MEM_TABLE.code(), memTable(GPA, REGION, UVA, 0), e.fd())).isNotZero();
            // a file smaller than the region (mapping it would SIGBUS on first touch)
            assertThat(peer.sendAcked(Request.SET_MEM_TABLE.code(), memTable(GPA, REGION, UVA, 0), small)).isNotZero();
            // size zero, overflowing addresses
            assertThat(peer.sendAcked(Request.SET_MEM_TABLE.code(), memTable(GPA, 0, UVA, 0), small)).isNotZero();
            assertThat(peer.sendAcked(Request.SET_MEM_TABLE.code(), memTable(Long.MAX_VALUE - 10, 4096, UVA, 0), small))
                    .isNotZero();
            ByteBuffer single = Message.allocate(40);
            single.putLong(8, GPA).putLong(16, REGION).putLong(24, UVA).putLong(32, 0);
            assertThat(peer.sendAcked(Request.ADD_MEM_REG.code(), single, small)).isNotZero();
            single.putLong(16, 4096);
            assertThat(peer.sendAcked(Request.ADD_MEM_REG.code(), single, small)).isZero();
            ByteBuffer shifted = Message.allocate(40);
            shifted.putLong(8, GPA).putLong(16, 4096).putLong(24, UVA + 8192).putLong(32, 0);
            assertThat(peer.sendAcked(Request.ADD_MEM_REG.code(), shifted, small)).isNotZero(); // overlaps
            assertThat(peer.sendAcked(Request.REM_MEM_REG.code(), single)).isZero();
            assertThat(peer.sendAcked(Request.REM_MEM_REG.code(), single)).isNotZero(); // gone already
            stillAlive(peer);
        }
    }

    /**
     * QEMU 7.2 sends every region once per vhost device, and a multi-queue net device has one per queue
     * pair on one connection: the same region again is counted, and goes on its last removal.
     */
    @Test
    void theSameRegionAddedAgainIsCountedNotRefused() throws IOException {
        try (RawPeer peer = new RawPeer(socket).handshake(); NativeFd mem = Memfd.create("mem", 4096)) {
            ByteBuffer single = Message.allocate(40);
            single.putLong(8, GPA).putLong(16, 4096).putLong(24, UVA).putLong(32, 0);
            assertThat(peer.sendAcked(Request.ADD_MEM_REG.code(), single, mem)).isZero();
            assertThat(peer.sendAcked(Request.ADD_MEM_REG.code(), single, mem)).isZero(); // pair 2's vhost device
            ByteBuffer otherOffset = Message.allocate(40);
            otherOffset.putLong(8, GPA).putLong(16, 2048).putLong(24, UVA).putLong(32, 2048);
            assertThat(peer.sendAcked(Request.ADD_MEM_REG.code(), otherOffset, mem)).isNotZero(); // not the same
            assertThat(peer.sendAcked(Request.REM_MEM_REG.code(), single)).isZero();
            assertThat(peer.sendAcked(Request.REM_MEM_REG.code(), single)).isZero(); // the last reference
            assertThat(peer.sendAcked(Request.REM_MEM_REG.code(), single)).isNotZero(); // gone now
            stillAlive(peer);
        }
    }

    @Test
    void ringAddressOutsideEveryRegionIsRefused() throws IOException {
        try (RawPeer peer = new RawPeer(socket).handshake(); NativeFd mem = Memfd.create("mem", REGION)) {
            assertThat(peer.sendAcked(Request.SET_MEM_TABLE.code(), memTable(GPA, REGION, UVA, 0), mem)).isZero();
            ByteBuffer addr = Message.allocate(40);
            addr.putInt(0, 0).putInt(4, 0).putLong(8, UVA).putLong(16, UVA + 0x2000).putLong(24, GPA + 0x1000);
            assertThat(peer.sendAcked(Request.SET_VRING_ADDR.code(), addr)).isNotZero(); // avail given as a GPA
            addr.putLong(24, UVA + 0x1000).putInt(4, 0x10);
            assertThat(peer.sendAcked(Request.SET_VRING_ADDR.code(), addr)).isNotZero(); // unknown flags
            addr.putInt(4, 0);
            assertThat(peer.sendAcked(Request.SET_VRING_ADDR.code(), addr)).isZero();
            // a ring that does not fit (size 1024 split: used ring runs past the region end)
            assertThat(peer.sendAcked(Request.SET_VRING_NUM.code(), RawPeer.state(0, 1000))).isZero();
            try (EventFd kick = EventFd.create(true)) {
                assertThat(peer.sendAcked(Request.SET_VRING_KICK.code(), RawPeer.u64(0), kick.fd())).isNotZero();
            }
            // a kick descriptor that is not an eventfd
            try (NativeFd notEvent = Memfd.create("x", 8)) {
                assertThat(peer.sendAcked(Request.SET_VRING_KICK.code(), RawPeer.u64(1), notEvent)).isNotZero();
            }
            stillAlive(peer);
        }
    }

    @Test
    void badStatusAndConfigAreRefused() throws IOException {
        try (RawPeer peer = new RawPeer(socket).handshake()) {
            assertThat(peer.sendAcked(Request.SET_STATUS.code(), RawPeer.u64(0x1FF))).isNotZero();
            ByteBuffer config = Message.allocate(12 + 4);
            config.putInt(0, 0).putInt(4, 8).putInt(8, 0); // says 8 bytes, carries 4
            assertThat(peer.sendAcked(Request.SET_CONFIG.code(), config)).isNotZero();
            config.putInt(4, 4).putInt(8, 7); // unknown flags
            assertThat(peer.sendAcked(Request.SET_CONFIG.code(), config)).isNotZero();
            assertThat(peer.u64Request(Request.GET_STATUS) & DeviceStatus.DEVICE_NEEDS_RESET).isZero();
            stillAlive(peer);
        }
    }
}
