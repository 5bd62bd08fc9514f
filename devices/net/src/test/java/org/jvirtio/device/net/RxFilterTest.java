package org.jvirtio.device.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Receive filtering with CTRL_RX (virtio 1.2 sections 5.1.6.5.1 and 5.1.6.5.2): from reset the device
 * takes its own address and broadcast; promiscuous and all-multicast mode and the MAC table widen that;
 * each frame left out is counted as RX_FILTERED and the receive buffer stays for the next.
 */
class RxFilterTest {
    private static final int RX = 0;
    private static final int MAC = 1;
    private static final byte[] OWN = Frames.mac(1);
    private static final byte[] OTHER = Frames.mac(7);
    private static final byte[] MULTICAST = {0x01, 0x00, 0x5E, 0x00, 0x00, 0x01};
    private static final byte[] OTHER_MULTICAST = {0x33, 0x33, 0x00, 0x00, 0x00, 0x01};

    private NetRig rig;

    /** Delivers a frame to {@code destination} and says whether the driver got it. */
    private boolean arrives(byte[] destination) {
        long filtered = rig.device.metrics(0).get(NetCounter.RX_FILTERED);
        boolean accepted = rig.backend.deliver(Frames.frame(destination, Frames.mac(2), 60, 1));
        NetRig.Used used = rig.pollRx(0);
        assertThat(used != null).isEqualTo(accepted);
        assertThat(rig.device.metrics(0).get(NetCounter.RX_FILTERED)).isEqualTo(filtered + (accepted ? 0 : 1));
        if (accepted) {
            rig.postRx(0, 2048); // give the used buffer back
        }
        return accepted;
    }

    private static byte[] table(byte[]... unicastThenOneMulticast) {
        ByteBuffer b = ByteBuffer.allocate(8 + 6 * unicastThenOneMulticast.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(unicastThenOneMulticast.length - 1);
        for (int i = 0; i < unicastThenOneMulticast.length - 1; i++) {
            b.put(unicastThenOneMulticast[i]);
        }
        b.putInt(1).put(unicastThenOneMulticast[unicastThenOneMulticast.length - 1]);
        return b.array();
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void fromResetOnlyTheOwnAddressAndBroadcastArrive(boolean packed) throws Exception {
        rig = new NetRig(packed);
        rig.postRx(0, 2048);
        assertThat(arrives(OWN)).isTrue();
        assertThat(arrives(Frames.BROADCAST)).isTrue();
        assertThat(arrives(OTHER)).isFalse();
        assertThat(arrives(MULTICAST)).isFalse();
        assertThat(rig.device.metrics(0).get(NetCounter.RX_FRAMES)).isEqualTo(2);
    }

    @Test
    void promiscuousModeTakesEverythingUntilItIsTurnedOff() throws Exception {
        rig = new NetRig(false);
        rig.postRx(0, 2048);
        assertThat(rig.control(RX, 0, new byte[] {1})).isZero();
        assertThat(arrives(OTHER)).isTrue();
        assertThat(arrives(MULTICAST)).isTrue();
        assertThat(rig.control(RX, 0, new byte[] {0})).isZero();
        assertThat(arrives(OTHER)).isFalse();
        assertThat(arrives(OWN)).isTrue();
    }

    @Test
    void allMulticastTakesEveryMulticastButNoForeignUnicast() throws Exception {
        rig = new NetRig(false);
        rig.postRx(0, 2048);
        assertThat(rig.control(RX, 1, new byte[] {1})).isZero();
        assertThat(arrives(MULTICAST)).isTrue();
        assertThat(arrives(OTHER_MULTICAST)).isTrue();
        assertThat(arrives(OTHER)).isFalse();
        assertThat(rig.control(RX, 1, new byte[] {0})).isZero();
        assertThat(arrives(MULTICAST)).isFalse();
    }

    @Test
    void theMacTableAddsUnicastAndMulticastAddressesAndIsReplacedAsAWhole() throws Exception {
        rig = new NetRig(false);
        rig.postRx(0, 2048);
        assertThat(rig.control(MAC, 0, table(Frames.mac(9), OTHER, MULTICAST))).isZero();
        assertThat(arrives(OTHER)).isTrue();
        assertThat(arrives(Frames.mac(9))).isTrue();
        assertThat(arrives(MULTICAST)).isTrue();
        assertThat(arrives(OTHER_MULTICAST)).isFalse();
        assertThat(arrives(Frames.mac(8))).isFalse();
        assertThat(arrives(OWN)).isTrue();
        assertThat(rig.control(MAC, 0, table(OTHER_MULTICAST))).isZero();
        assertThat(arrives(OTHER)).isFalse();
        assertThat(arrives(MULTICAST)).isFalse();
        assertThat(arrives(OTHER_MULTICAST)).isTrue();
    }

    @Test
    void macAddrSetMovesTheOwnAddress() throws Exception {
        rig = new NetRig(false);
        rig.postRx(0, 2048);
        assertThat(rig.control(MAC, 1, OTHER)).isZero();
        assertThat(arrives(OTHER)).isTrue();
        assertThat(arrives(OWN)).isFalse();
    }

    @Test
    void withoutCtrlRxEveryFrameArrives() throws Exception {
        rig = new NetRig(NetRig.options().build(), false, 1L << NetFeatures.CTRL_RX);
        rig.postRx(0, 2048);
        assertThat(arrives(OTHER)).isTrue();
        assertThat(arrives(MULTICAST)).isTrue();
        assertThat(rig.device.count(NetCounter.RX_FILTERED)).isZero();
    }
}
