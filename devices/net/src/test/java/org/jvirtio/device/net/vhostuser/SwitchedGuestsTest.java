package org.jvirtio.device.net.vhostuser;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.device.net.NetCounter;
import org.jvirtio.device.net.NetDevice;
import org.jvirtio.device.net.NetDeviceOptions;
import org.jvirtio.device.net.NetFeatures;
import org.jvirtio.device.net.backend.FrameSink;
import org.jvirtio.device.net.backend.l2.L2Switch;
import org.jvirtio.device.net.backend.l2.SwitchBackend;
import org.jvirtio.device.net.backend.l2.SwitchRegistry;
import org.jvirtio.transport.vhostuser.VhostUserBackend;
import org.jvirtio.transport.vhostuser.VhostUserFrontend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Two virtio-net devices on one in-JVM switch, each served over a real vhost-user socket (memfd,
 * eventfds, a thread per ring) and driven by the Java front end as its guest: frames go from guest A's
 * transmit queue through the switch into guest B's receive queue, byte for byte. A third switch port
 * (a plain sink) shows what was flooded and what went to one port only.
 */
class SwitchedGuestsTest {
    private static final byte[] MAC_A = {0x52, 0x54, 0, 0, 0, 0x0A};
    private static final byte[] MAC_B = {0x52, 0x54, 0, 0, 0, 0x0B};
    private static final byte[] BROADCAST = {-1, -1, -1, -1, -1, -1};

    @TempDir
    Path dir;

    private final L2Switch lan = new SwitchRegistry(System::nanoTime, TimeUnit.SECONDS.toNanos(300), 256).forName("lan");
    private final List<byte[]> thirdPort = new CopyOnWriteArrayList<>();
    private VhostUserBackend backendA;
    private VhostUserBackend backendB;
    private VhostUserFrontend feA;
    private VhostUserFrontend feB;

    @AfterEach
    void close() {
        for (AutoCloseable c : new AutoCloseable[] {feA, feB, backendA, backendB}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // closing what is left of a failed test
            }
        }
    }

    private NetDevice device(byte[] mac) {
        return new NetDevice(new SwitchBackend(lan), NetDeviceOptions.builder().mac(mac).queueSize(64).build());
    }

    private static long features(boolean packed, boolean mergeable) {
        long f = VirtioFeature.of(VirtioFeature.VERSION_1, VirtioFeature.RING_EVENT_IDX, VirtioFeature.RING_INDIRECT_DESC,
                NetFeatures.MAC, NetFeatures.STATUS, NetFeatures.MTU, NetFeatures.CTRL_VQ, NetFeatures.CTRL_RX,
                NetFeatures.CTRL_MAC_ADDR);
        f |= packed ? VirtioFeature.bit(VirtioFeature.RING_PACKED) : 0;
        f |= mergeable ? 1L << NetFeatures.MRG_RXBUF : 0;
        return f;
    }

    private static byte[] frame(byte[] dst, byte[] src, int length, int seed) {
        byte[] f = new byte[length];
        System.arraycopy(dst, 0, f, 0, 6);
        System.arraycopy(src, 0, f, 6, 6);
        f[12] = (byte) 0x88;
        f[13] = (byte) 0xB5;
        for (int i = 14; i < length; i++) {
            f[i] = (byte) (seed * 131 + i * 7 + (i >> 8));
        }
        return f;
    }

    private NetDevice a;
    private NetDevice b;
    private Guest guestA;
    private Guest guestB;

    /** Both devices served on their sockets, both front ends connected and their rx rings filled. */
    private void start(boolean packed, boolean mergeable) throws Exception {
        a = device(MAC_A);
        b = device(MAC_B);
        backendA = VhostUserBackend.start(a, dir.resolve("a.sock"));
        backendB = VhostUserBackend.start(b, dir.resolve("b.sock"));
        VhostUserFrontend.Options options = new VhostUserFrontend.Options().queues(3, 64)
                .features(features(packed, mergeable));
        feA = VhostUserFrontend.connect(dir.resolve("a.sock"), options);
        feB = VhostUserFrontend.connect(dir.resolve("b.sock"), options);
        assertThat(feA.features()).isEqualTo(features(packed, mergeable));
        assertThat(feA.getConfig(0, 6)).containsExactly(MAC_A);
        // mergeable: small buffers, so big frames span several; otherwise each buffer takes the largest frame
        int rxBuffer = mergeable ? 256 : 2048;
        guestA = new Guest(feA, mergeable, rxBuffer);
        guestB = new Guest(feB, mergeable, rxBuffer);
    }

    @ParameterizedTest(name = "packed={0} mergeable={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void framesCrossTheSwitchByteExact(boolean packed, boolean mergeable) throws Exception {
        start(packed, mergeable);
        Guest guestA = this.guestA;
        Guest guestB = this.guestB;
        lan.attach(new FrameSink() {
            @Override
            public boolean receive(ByteBuffer f) {
                byte[] copy = new byte[f.remaining()];
                f.get(f.position(), copy);
                thirdPort.add(copy);
                return true;
            }

            @Override
            public void flush() {
            }
        }, new byte[6]);

        // broadcast from A: B and the third port get it; the switch learns A
        byte[] hello = frame(BROADCAST, MAC_A, 60, 1);
        guestA.send(hello);
        assertThat(guestB.receive()).isEqualTo(hello);
        assertThat(thirdPort).hasSize(1);

        // B answers A by unicast: A's address is learned, so only A gets it
        byte[] answer = frame(MAC_A, MAC_B, 1514, 2);
        guestB.send(answer);
        assertThat(guestA.receive()).isEqualTo(answer);
        assertThat(thirdPort).hasSize(1);

        // now both are learned: frames of every size from A reach B alone, in order, byte for byte
        int[] sizes = {14, 60, 61, 243, 244, 500, 1000, 1513, 1514, 1518};
        for (int i = 0; i < sizes.length; i++) {
            byte[] f = frame(MAC_B, MAC_A, sizes[i], 10 + i);
            guestA.send(f);
            assertThat(guestB.receive()).as("frame of %d bytes", sizes[i]).isEqualTo(f);
        }
        assertThat(thirdPort).hasSize(1);
        assertThat(guestA.hasReceived()).isFalse();
        assertThat(guestB.hasReceived()).isFalse();

        // the control queue works over the socket too
        assertThat(guestA.control(0, 0, new byte[] {1})).isZero();

        assertThat(a.metrics(1).get(NetCounter.TX_FRAMES)).isEqualTo(1 + sizes.length);
        assertThat(b.metrics(0).get(NetCounter.RX_FRAMES)).isEqualTo(1 + sizes.length);
        assertThat(a.metrics(0).get(NetCounter.RX_FRAMES)).isEqualTo(1);
        assertThat(b.count(NetCounter.RX_NO_BUFFER) + a.count(NetCounter.RX_NO_BUFFER)).isZero();
        assertThat(lan.ports().get(1).rxFrames()).isEqualTo(1 + sizes.length);
    }

    /**
     * Both guests send at once: A's transmit thread writes into B's receive queue while B's transmit
     * thread writes into A's, each receive queue behind its own lock.
     */
    @ParameterizedTest(name = "packed={0} mergeable={1}")
    @CsvSource({"false,true", "true,true", "true,false"})
    void bothDirectionsAtOnce(boolean packed, boolean mergeable) throws Exception {
        start(packed, mergeable);
        int frames = 300;
        Thread other = new Thread(() -> exchange(guestB, MAC_B, MAC_A, frames), "guest-b");
        Throwable[] failure = new Throwable[1];
        other.setUncaughtExceptionHandler((t, e) -> failure[0] = e);
        other.start();
        exchange(guestA, MAC_A, MAC_B, frames);
        other.join(30_000);
        assertThat(other.isAlive()).isFalse();
        assertThat(failure[0]).isNull();
        assertThat(a.metrics(0).get(NetCounter.RX_FRAMES)).isEqualTo(frames);
        assertThat(b.metrics(0).get(NetCounter.RX_FRAMES)).isEqualTo(frames);
        assertThat(a.count(NetCounter.RX_NO_BUFFER) + b.count(NetCounter.RX_NO_BUFFER)).isZero();
    }

    /** Sends frame i, then takes the peer's frame i; the peer does the same with its own frames. */
    private static void exchange(Guest guest, byte[] self, byte[] peer, int frames) {
        try {
            for (int i = 0; i < frames; i++) {
                guest.send(frame(peer, self, 60 + (i * 37) % 1455, self[5] * 1000 + i));
                assertThat(guest.receive()).isEqualTo(frame(self, peer, 60 + (i * 37) % 1455, peer[5] * 1000 + i));
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * A two-pair device over vhost-user: GET_QUEUE_NUM says 5, the driver turns the second pair on with
     * VQ_PAIRS_SET, and frames sent on either transmit queue (each served on its own ring thread) reach
     * the peer.
     */
    @ParameterizedTest(name = "packed={0}")
    @CsvSource({"false", "true"})
    void secondQueuePairAfterVqPairsSet(boolean packed) throws Exception {
        a = new NetDevice(new SwitchBackend(lan), NetDeviceOptions.builder().mac(MAC_A).queueSize(64).queuePairs(2)
                .build());
        b = device(MAC_B);
        backendA = VhostUserBackend.start(a, dir.resolve("a.sock"));
        backendB = VhostUserBackend.start(b, dir.resolve("b.sock"));
        long features = features(packed, true) | 1L << NetFeatures.MQ;
        feA = VhostUserFrontend.connect(dir.resolve("a.sock"), new VhostUserFrontend.Options().queues(5, 64)
                .features(features));
        feB = VhostUserFrontend.connect(dir.resolve("b.sock"), new VhostUserFrontend.Options().queues(3, 64)
                .features(features));
        assertThat(feA.queueNum()).isEqualTo(5);
        assertThat(feA.features() & 1L << NetFeatures.MQ).isNotZero();
        assertThat(feB.features() & 1L << NetFeatures.MQ).isZero(); // one pair: MQ not offered
        Guest guestA = new Guest(feA, true, 2048, 4);
        Guest guestB = new Guest(feB, true, 2048);
        assertThat(guestA.control(4, 0, new byte[] {2, 0})).isZero();
        assertThat(guestA.control(4, 0, new byte[] {3, 0})).isEqualTo(1); // more than max_virtqueue_pairs

        for (int i = 0; i < 20; i++) {
            byte[] f = frame(MAC_B, MAC_A, 100 + i, i);
            guestA.send(i % 2 == 0 ? 1 : 3, f);
            assertThat(guestB.receive()).isEqualTo(f);
        }
        assertThat(a.metrics(1).get(NetCounter.TX_FRAMES)).isEqualTo(10);
        assertThat(a.metrics(3).get(NetCounter.TX_FRAMES)).isEqualTo(10);
        assertThat(a.metrics(4).get(NetCounter.CTRL_BAD_VALUE)).isEqualTo(1);
    }
}
