package org.jvirtio.device.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.jvirtio.api.queue.ScatterGatherList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The control queue: each command acked OK or ERR, malformed ones counted, the queue going on. */
class ControlQueueTest {
    private static final int OK = 0;
    private static final int ERR = 1;
    private static final int RX = 0;
    private static final int MAC = 1;
    private static final int ANNOUNCE = 3;
    private static final int MQ = 4;

    private static byte[] pairs(int n) {
        return ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort(0, (short) n).array();
    }

    /** MAC_TABLE_SET data: {@code unicast} and {@code multicast} entries, with the counts as given. */
    private static byte[] macTable(int unicastCount, int unicast, int multicastCount, int multicast) {
        ByteBuffer b = ByteBuffer.allocate(8 + 6 * (unicast + multicast)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(unicastCount);
        for (int i = 0; i < unicast; i++) {
            b.put(Frames.mac(i));
        }
        b.putInt(multicastCount);
        for (int i = 0; i < multicast; i++) {
            b.put(new byte[] {1, 0, 0x5E, 0, 0, (byte) i});
        }
        return b.array();
    }

    private static byte[] configMac(NetDevice device) {
        byte[] mac = new byte[6];
        device.readConfig(NetConfigSpace.MAC, mac, 0, 6);
        return mac;
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void rxModesAreAcked(boolean packed) throws Exception {
        NetRig rig = new NetRig(packed);
        assertThat(rig.control(RX, 0, new byte[] {1})).isEqualTo(OK);
        assertThat(rig.control(RX, 1, new byte[] {1})).isEqualTo(OK);
        assertThat(rig.control(RX, 0, new byte[] {0})).isEqualTo(OK);
        assertThat(rig.control(RX, 0, new byte[] {1, 1})).isEqualTo(ERR);
        assertThat(rig.control(RX, 1, new byte[0])).isEqualTo(ERR);
        QueueMetrics m = rig.device.metrics(rig.controlQueue());
        assertThat(m.get(NetCounter.CTRL_COMMANDS)).isEqualTo(5);
        assertThat(m.get(NetCounter.CTRL_BAD_LENGTH)).isEqualTo(2);
        rig.assertStillWorks();
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void macAddrSetUpdatesConfigSpaceUntilReset(boolean packed) throws Exception {
        NetRig rig = new NetRig(NetRig.options().mac("52:54:00:aa:bb:cc").build(), packed, 0);
        assertThat(configMac(rig.device)).containsExactly(0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc);
        byte[] next = {0x02, 0, 0, 0, 0, 0x42};
        assertThat(rig.control(MAC, 1, next)).isEqualTo(OK);
        assertThat(configMac(rig.device)).containsExactly(next);
        assertThat(rig.control(MAC, 1, new byte[5])).isEqualTo(ERR);
        assertThat(configMac(rig.device)).containsExactly(next);
        assertThat(rig.device.metrics(rig.controlQueue()).get(NetCounter.CTRL_BAD_LENGTH)).isEqualTo(1);
        rig.device.reset();
        assertThat(configMac(rig.device)).containsExactly(0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc);
    }

    private static int status(NetDevice device) {
        byte[] status = new byte[2];
        device.readConfig(NetConfigSpace.STATUS, status, 0, 2);
        return status[0] & 0xFF | (status[1] & 0xFF) << 8;
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void linkStateAndAnnounceReachTheDriverThroughStatus(boolean packed) throws Exception {
        NetRig rig = new NetRig(packed);
        assertThat(status(rig.device)).isEqualTo(NetConfigSpace.LINK_UP);
        rig.device.setLinkUp(false);
        assertThat(status(rig.device)).isZero();
        assertThat(rig.notifier.configChanges).isEqualTo(1);
        assertThat(rig.device.announce()).isTrue();
        assertThat(status(rig.device)).isEqualTo(NetConfigSpace.ANNOUNCE);
        assertThat(rig.notifier.configChanges).isEqualTo(2);
        assertThat(rig.control(ANNOUNCE, 0, new byte[] {1})).isEqualTo(ERR); // ANNOUNCE_ACK carries no data
        assertThat(status(rig.device)).isEqualTo(NetConfigSpace.ANNOUNCE);
        assertThat(rig.control(ANNOUNCE, 0, new byte[0])).isEqualTo(OK);
        assertThat(status(rig.device)).isZero();
        rig.device.setLinkUp(true);
        rig.device.announce();
        rig.device.reset(); // a pending announcement goes with the driver; the link state is the device's
        assertThat(status(rig.device)).isEqualTo(NetConfigSpace.LINK_UP);
        assertThat(rig.device.announce()).as("no driver runs the device").isFalse();
    }

    @Test
    void withoutGuestAnnounceThereIsNothingToAckOrAsk() throws Exception {
        NetRig rig = new NetRig(NetRig.options().build(), false, 1L << NetFeatures.GUEST_ANNOUNCE);
        assertThat(rig.device.announce()).isFalse();
        assertThat(status(rig.device)).isEqualTo(NetConfigSpace.LINK_UP);
        assertThat(rig.control(ANNOUNCE, 0, new byte[0])).isEqualTo(ERR);
        assertThat(rig.device.metrics(rig.controlQueue()).get(NetCounter.CTRL_UNKNOWN)).isEqualTo(1);
        rig.assertStillWorks();
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void macTableSetChecksItsLengths(boolean packed) throws Exception {
        NetRig rig = new NetRig(packed);
        assertThat(rig.control(MAC, 0, macTable(2, 2, 1, 1))).isEqualTo(OK);
        assertThat(rig.control(MAC, 0, macTable(0, 0, 0, 0))).isEqualTo(OK);
        assertThat(rig.control(MAC, 0, macTable(3, 2, 1, 1))).isEqualTo(ERR); // unicast count too big
        assertThat(rig.control(MAC, 0, macTable(1, 2, 1, 1))).isEqualTo(ERR); // bytes left over
        assertThat(rig.control(MAC, 0, new byte[6])).isEqualTo(ERR); // no second table
        assertThat(rig.device.metrics(rig.controlQueue()).get(NetCounter.CTRL_BAD_LENGTH)).isEqualTo(3);
        rig.assertStillWorks();
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void vqPairsSetWithinLimits(boolean packed) throws Exception {
        NetRig rig = new NetRig(NetRig.options().queuePairs(3).build(), packed, 0);
        assertThat(rig.device.queueCount()).isEqualTo(7);
        byte[] config = new byte[2];
        rig.device.readConfig(NetConfigSpace.MAX_VIRTQUEUE_PAIRS, config, 0, 2);
        assertThat(config).containsExactly(3, 0);
        assertThat(rig.control(MQ, 0, pairs(3))).isEqualTo(OK);
        assertThat(rig.control(MQ, 0, pairs(1))).isEqualTo(OK);
        assertThat(rig.control(MQ, 0, pairs(0))).isEqualTo(ERR);
        assertThat(rig.control(MQ, 0, pairs(4))).isEqualTo(ERR);
        assertThat(rig.control(MQ, 0, new byte[] {2})).isEqualTo(ERR);
        QueueMetrics m = rig.device.metrics(6);
        assertThat(m.get(NetCounter.CTRL_BAD_VALUE)).isEqualTo(2);
        assertThat(m.get(NetCounter.CTRL_BAD_LENGTH)).isEqualTo(1);
        rig.assertStillWorks();
    }

    @Test
    void framesSpreadOverTheActivePairsOnly() throws Exception {
        NetRig rig = new NetRig(NetRig.options().queuePairs(2).build(), false, 0);
        for (int i = 0; i < 8; i++) {
            rig.postRx(0, 2048);
            rig.postRx(2, 2048);
        }
        // before VQ_PAIRS_SET only the first pair is used
        for (int i = 0; i < 4; i++) {
            assertThat(rig.backend.deliver(Frames.frame(Frames.mac(1), Frames.mac(10 + i), 60, i))).isTrue();
        }
        assertThat(rig.device.metrics(0).get(NetCounter.RX_FRAMES)).isEqualTo(4);
        assertThat(rig.control(MQ, 0, pairs(2))).isEqualTo(OK);
        for (int i = 0; i < 8; i++) {
            assertThat(rig.backend.deliver(Frames.frame(Frames.mac(1), Frames.mac(20 + i), 60, i))).isTrue();
        }
        long q0 = rig.device.metrics(0).get(NetCounter.RX_FRAMES) - 4;
        long q1 = rig.device.metrics(2).get(NetCounter.RX_FRAMES);
        assertThat(q0 + q1).isEqualTo(8);
        assertThat(q1).isPositive();
        // one conversation stays on one queue, whichever way it goes
        byte[] ab = Frames.frame(Frames.mac(5), Frames.mac(6), 60, 0);
        byte[] ba = Frames.frame(Frames.mac(6), Frames.mac(5), 60, 0);
        assertThat(ReceivePath.queueFor(ByteBuffer.wrap(ab), 2)).isEqualTo(ReceivePath.queueFor(ByteBuffer.wrap(ba), 2));
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void malformedCommandsGetErr(boolean packed) throws Exception {
        NetRig rig = new NetRig(packed);
        assertThat(rig.control(9, 0, new byte[0])).isEqualTo(ERR); // unknown class
        assertThat(rig.control(RX, 7, new byte[] {1})).isEqualTo(ERR); // unknown command
        assertThat(rig.control(MQ, 0, pairs(1))).isEqualTo(ERR); // MQ not offered with one pair
        QueueMetrics m = rig.device.metrics(rig.controlQueue());
        assertThat(m.get(NetCounter.CTRL_UNKNOWN)).isEqualTo(3);

        // class byte only: too short to be a command
        long ack = rig.memory.store(new byte[] {0x7F});
        int used = rig.submit(rig.controlQueue(), new ScatterGatherList(2)
                .addReadable(rig.memory.store(new byte[] {RX}), 1).addWritable(ack, 1));
        assertThat(used).isEqualTo(1);
        assertThat(rig.memory.map().getByte(ack)).isEqualTo((byte) ERR);
        assertThat(m.get(NetCounter.CTRL_BAD_LENGTH)).isEqualTo(1);

        // no ack byte: not executed, used with nothing written
        used = rig.submit(rig.controlQueue(), new ScatterGatherList(1)
                .addReadable(rig.memory.store(new byte[] {MAC, 1, 2, 0, 0, 0, 0, 9}), 8));
        assertThat(used).isZero();
        assertThat(m.get(NetCounter.CTRL_NO_ACK)).isEqualTo(1);
        assertThat(configMac(rig.device)).containsExactly(Frames.mac(1));

        assertThat(rig.control(RX, 0, new byte[] {1})).isEqualTo(OK);
        rig.assertStillWorks();
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void commandsOfFeaturesNotNegotiatedGetErr(boolean packed) throws Exception {
        NetRig rig = new NetRig(NetRig.options().build(), packed,
                1L << NetFeatures.CTRL_RX | 1L << NetFeatures.CTRL_MAC_ADDR);
        assertThat(rig.control(RX, 0, new byte[] {1})).isEqualTo(ERR);
        assertThat(rig.control(MAC, 0, macTable(0, 0, 0, 0))).isEqualTo(ERR);
        assertThat(rig.control(MAC, 1, new byte[6])).isEqualTo(ERR);
        assertThat(rig.device.metrics(rig.controlQueue()).get(NetCounter.CTRL_UNKNOWN)).isEqualTo(3);
        rig.assertStillWorks();
    }
}
