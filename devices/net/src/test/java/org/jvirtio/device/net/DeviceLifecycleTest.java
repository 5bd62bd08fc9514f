package org.jvirtio.device.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.annotation.Annotation;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import org.jvirtio.api.VirtioDeviceId;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.DeviceActivationException;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.device.net.backend.FrameSink;
import org.jvirtio.device.net.backend.Transmitter;
import org.jvirtio.device.net.backend.l2.L2Switch;
import org.jvirtio.device.net.backend.l2.SwitchBackend;
import org.jvirtio.device.net.backend.l2.SwitchRegistry;
import org.jvirtio.device.net.backend.sink.SinkBackend;
import org.jvirtio.vring.testkit.RecordingNotifier;
import org.junit.jupiter.api.Test;

/** What the device offers, its configuration space, and attaching to and leaving its backend. */
class DeviceLifecycleTest {

    @Test
    void offersWhatItsOptionsSay() {
        NetDevice one = new NetDevice(new SinkBackend(), NetDeviceOptions.builder().build());
        assertThat(one.deviceId()).isEqualTo(VirtioDeviceId.NET);
        assertThat(one.queueCount()).isEqualTo(3);
        assertThat(one.offeredFeatures()).isEqualTo(VirtioFeature.of(VirtioFeature.VERSION_1,
                VirtioFeature.RING_INDIRECT_DESC, VirtioFeature.RING_EVENT_IDX, VirtioFeature.RING_PACKED,
                VirtioFeature.IN_ORDER, NetFeatures.CSUM, NetFeatures.MAC, NetFeatures.STATUS, NetFeatures.MTU,
                NetFeatures.MRG_RXBUF, NetFeatures.CTRL_VQ, NetFeatures.CTRL_RX, NetFeatures.CTRL_MAC_ADDR,
                NetFeatures.GUEST_ANNOUNCE));
        assertThat(one.servesQueuesConcurrently()).isTrue();

        NetDevice four = new NetDevice(new SinkBackend(), NetDeviceOptions.builder().queuePairs(4).build());
        assertThat(four.queueCount()).isEqualTo(9);
        assertThat(VirtioFeature.has(four.offeredFeatures(), NetFeatures.MQ)).isTrue();

        NetDevice bare = new NetDevice(new SinkBackend(), NetDeviceOptions.builder().ctrl(false).mergeable(false)
                .packed(false).csum(false).inOrder(false).build());
        assertThat(bare.queueCount()).isEqualTo(2);
        assertThat(bare.offeredFeatures() & (1L << NetFeatures.CTRL_VQ | 1L << NetFeatures.CTRL_RX
                | 1L << NetFeatures.MRG_RXBUF | 1L << NetFeatures.CSUM | 1L << NetFeatures.GUEST_ANNOUNCE
                | VirtioFeature.bit(VirtioFeature.RING_PACKED) | VirtioFeature.bit(VirtioFeature.IN_ORDER)))
                .isZero();
        assertThatThrownBy(() -> NetDeviceOptions.builder().queuePairs(2).ctrl(false).build())
                .isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * Over vhost-user, QEMU negotiates MQ with the back end but keeps the control queue to itself (the
     * back end never sees CTRL_VQ): every pair's queues are served, and frames arrive on receiveq 0, as
     * nobody tells the device how many pairs the driver uses.
     */
    @Test
    void mqWithoutTheControlQueueServesEveryPair() throws Exception {
        NetRig rig = new NetRig(NetRig.options().queuePairs(2).build(), false,
                1L << NetFeatures.CTRL_VQ | 1L << NetFeatures.CTRL_RX | 1L << NetFeatures.CTRL_MAC_ADDR);
        assertThat(VirtioFeature.has(rig.device.negotiatedFeatures(), NetFeatures.MQ)).isTrue();
        byte[] second = Frames.frame(Frames.BROADCAST, Frames.mac(1), 60, 2);
        byte[] first = Frames.frame(Frames.BROADCAST, Frames.mac(1), 70, 1);
        assertThat(rig.transmit(3, Frames.withHeader(second))).isZero();
        assertThat(rig.transmit(1, Frames.withHeader(first))).isZero();
        assertThat(rig.backend.sent).containsExactly(second, first);
        assertThat(rig.device.metrics(3).get(NetCounter.TX_FRAMES)).isEqualTo(1);
        for (int i = 0; i < 4; i++) {
            rig.postRx(0, 2048);
            rig.postRx(2, 2048);
        }
        for (int i = 0; i < 4; i++) {
            assertThat(rig.backend.deliver(Frames.frame(Frames.mac(1), Frames.mac(10 + i), 60, i))).isTrue();
        }
        assertThat(rig.device.metrics(0).get(NetCounter.RX_FRAMES)).isEqualTo(4);
        assertThat(rig.device.metrics(2).get(NetCounter.RX_FRAMES)).isZero();
    }

    @Test
    void configSpaceHoldsMacLinkPairsAndMtu() {
        NetDevice d = new NetDevice(new SinkBackend(), NetDeviceOptions.builder().mac("02:00:00:00:00:07")
                .queuePairs(2).mtu(9000).build());
        byte[] config = new byte[16];
        d.readConfig(0, config, 0, 16);
        assertThat(config).containsExactly(2, 0, 0, 0, 0, 7, 1, 0, 2, 0, 0x28, 0x23, 0, 0, 0, 0);
        d.writeConfig(0, new byte[] {9, 9}, 0, 2); // read-only
        d.readConfig(0, config, 0, 2);
        assertThat(config[0]).isEqualTo((byte) 2);
    }

    @Test
    void resetDetachesAndNothingIsWrittenAfterIt() throws Exception {
        NetRig rig = new NetRig(false);
        FrameSink old = rig.backend.sink;
        rig.postRx(0, 2048);
        rig.device.reset();
        assertThat(rig.backend.closed).isTrue();
        // a backend still holding the old sink (a delivery under way) reaches stopped queues
        assertThat(old.receive(ByteBuffer.wrap(Frames.frame(Frames.mac(1), Frames.mac(2), 60, 1)))).isFalse();
        old.flush();
        assertThat(rig.pollRx(0)).isNull();
    }

    @Test
    void resetLeavesTheSwitchAndActivatingAgainRejoins() throws Exception {
        L2Switch lan = new SwitchRegistry(System::nanoTime, TimeUnit.SECONDS.toNanos(300), 16).forName("lan");
        NetRig rig = new NetRig(new SwitchBackend(lan), NetRig.options().build(), false, 0);
        assertThat(lan.ports()).hasSize(1);
        rig.device.reset();
        assertThat(lan.ports()).isEmpty();

        rig.device.activate(NetRig.activation(rig.features, rig.devices, rig.memory.map(), rig.notifier));
        assertThat(lan.ports()).hasSize(1);
        rig.postRx(0, 2048);
        Transmitter other = lan.attach(new FrameSink() {
            @Override
            public boolean receive(ByteBuffer frame) {
                return true;
            }

            @Override
            public void flush() {
            }
        }, Frames.mac(9)).newTransmitter();
        byte[] frame = Frames.frame(Frames.BROADCAST, Frames.mac(9), 60, 2);
        other.transmit(ByteBuffer.wrap(frame));
        other.flush();
        NetRig.Used used = rig.pollRx(0);
        assertThat(used).isNotNull();
        assertThat(used.bytes()).hasSize(NetHeader.SIZE + 60);
    }

    @Test
    void activationWithoutItsQueuesFailsAndAttachesNothing() {
        L2Switch lan = new SwitchRegistry(System::nanoTime, 1, 16).forName("lan");
        NetDevice d = new NetDevice(new SwitchBackend(lan), NetDeviceOptions.builder().build());
        assertThatThrownBy(() -> d.activate(NetRig.activation(d.offeredFeatures(), new DeviceQueue[0], null,
                new RecordingNotifier()))).isInstanceOf(DeviceActivationException.class);
        assertThat(lan.ports()).isEmpty();
    }

    @Test
    void sinkBackendCountsAndDeliversNothing() throws Exception {
        SinkBackend sink = new SinkBackend();
        Transmitter t = sink.attach(new FrameSink() {
            @Override
            public boolean receive(ByteBuffer frame) {
                throw new AssertionError("the sink delivers nothing");
            }

            @Override
            public void flush() {
                throw new AssertionError("the sink delivers nothing");
            }
        }, new byte[6]).newTransmitter();
        t.transmit(ByteBuffer.wrap(new byte[60]));
        t.transmit(ByteBuffer.wrap(new byte[100]));
        t.flush();
        assertThat(sink.frames()).isEqualTo(2);
        assertThat(sink.bytes()).isEqualTo(160);
        assertThat(sink.flushes()).isEqualTo(1);
    }

    @Test
    void dsConfigurationBuildsTheSameDevice() {
        NetDevice.Config config = new NetDevice.Config() {
            @Override public Class<? extends Annotation> annotationType() { return NetDevice.Config.class; }
            @Override public String backend_target() { return ""; }
            @Override public int queues() { return 2; }
            @Override public int queueSize() { return 128; }
            @Override public String mac() { return "52:54:00:00:00:42"; }
            @Override public int mtu() { return 1400; }
            @Override public boolean ctrl() { return true; }
            @Override public boolean csum() { return false; }
            @Override public boolean mergeable() { return false; }
            @Override public boolean packed() { return true; }
        };
        NetDevice d = new NetDevice(new SinkBackend(), config);
        assertThat(d.queueCount()).isEqualTo(5);
        assertThat(d.queueMaxSize(4)).isEqualTo(128);
        assertThat(d.mac()).containsExactly(0x52, 0x54, 0, 0, 0, 0x42);
        assertThat(VirtioFeature.has(d.offeredFeatures(), NetFeatures.MRG_RXBUF)).isFalse();
        assertThat(VirtioFeature.has(d.offeredFeatures(), NetFeatures.MQ)).isTrue();
        assertThat(VirtioFeature.has(d.offeredFeatures(), NetFeatures.CSUM)).isFalse();
    }
}
