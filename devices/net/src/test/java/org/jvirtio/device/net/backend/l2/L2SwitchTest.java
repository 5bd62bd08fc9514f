package org.jvirtio.device.net.backend.l2;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.jvirtio.device.net.backend.Transmitter;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Learning, flooding, ageing and counting of the in-JVM switch, with a clock the test moves. */
class L2SwitchTest {
    private static final long AGEING = TimeUnit.SECONDS.toNanos(300);
    private static final byte[] BROADCAST = {-1, -1, -1, -1, -1, -1};

    private final AtomicLong clock = new AtomicLong(1_000);
    private L2Switch sw;
    private final RecordingSink[] sinks = new RecordingSink[3];
    private final SwitchPort[] ports = new SwitchPort[3];
    private final Transmitter[] tx = new Transmitter[3];

    @BeforeEach
    void attach() {
        sw = new SwitchRegistry(clock::get, AGEING, 64).forName("lan0");
        for (int i = 0; i < 3; i++) {
            sinks[i] = new RecordingSink();
            ports[i] = sw.attach(sinks[i], mac(i));
            tx[i] = ports[i].newTransmitter();
        }
    }

    private static byte[] mac(int i) {
        return new byte[] {0x52, 0x54, 0, 0, 0, (byte) (i + 1)};
    }

    private static byte[] frame(byte[] dst, byte[] src, int seed) {
        byte[] f = new byte[64];
        System.arraycopy(dst, 0, f, 0, 6);
        System.arraycopy(src, 0, f, 6, 6);
        f[12] = 0x08;
        for (int i = 14; i < f.length; i++) {
            f[i] = (byte) (seed + i);
        }
        return f;
    }

    /** Port {@code from} sends one frame to {@code dst} as a batch of its own. */
    private byte[] send(int from, byte[] dst) {
        byte[] f = frame(dst, mac(from), from * 7);
        ByteBuffer b = ByteBuffer.wrap(f);
        tx[from].transmit(b);
        tx[from].flush();
        assertThat(b.position()).isZero();
        assertThat(b.limit()).isEqualTo(f.length);
        return f;
    }

    private void assertReceivedCounts(int a, int b, int c) {
        assertThat(sinks[0].received).hasSize(a);
        assertThat(sinks[1].received).hasSize(b);
        assertThat(sinks[2].received).hasSize(c);
    }

    @Test
    void unknownUnicastFloodsThenLearnedAddressesGoToOnePort() {
        byte[] f = send(0, mac(1)); // 1 not learned yet: everyone but the sender
        assertReceivedCounts(0, 1, 1);
        assertThat(sinks[1].received.get(0)).isEqualTo(f);

        send(1, mac(0)); // 0 learned from the first frame: only 0
        assertReceivedCounts(1, 1, 1);

        send(0, mac(1)); // 1 learned now: only 1
        assertReceivedCounts(1, 2, 1);
        assertThat(sw.learnedAddresses()).isEqualTo(2);
    }

    @Test
    void broadcastAndMulticastFloodEvenWhenEveryoneIsKnown() {
        send(0, mac(1));
        send(1, mac(0));
        send(2, mac(0));
        assertReceivedCounts(2, 1, 1);
        send(0, BROADCAST);
        assertReceivedCounts(2, 2, 2);
        send(1, new byte[] {0x01, 0x00, 0x5E, 0, 0, 1});
        assertReceivedCounts(3, 2, 3);
    }

    @Test
    void learnedAddressesAgeOut() {
        send(1, BROADCAST); // learns 1
        assertReceivedCounts(1, 0, 1);
        clock.addAndGet(AGEING);
        send(0, mac(1)); // just within the ageing time: only 1
        assertReceivedCounts(1, 1, 1);
        clock.addAndGet(1);
        send(0, mac(1)); // aged out: flooded again
        assertReceivedCounts(1, 2, 2);
        assertThat(sw.learnedAddresses()).isEqualTo(1); // 0, learned just now
    }

    @Test
    void anAddressMovesWithItsTraffic() {
        send(1, BROADCAST);
        // the station behind port 1 now shows up behind port 2
        byte[] moved = frame(BROADCAST, mac(1), 3);
        tx[2].transmit(ByteBuffer.wrap(moved));
        tx[2].flush();
        assertReceivedCounts(2, 1, 1);
        send(0, mac(1));
        assertReceivedCounts(2, 1, 2);
    }

    @Test
    void aPortThatLeavesGetsNothingAndItsAddressesAreForgotten() {
        send(1, BROADCAST);
        ports[1].close();
        assertThat(sw.ports()).containsExactly(ports[0], ports[2]);
        send(0, mac(1)); // its address no longer answers: flooded to the ports still there
        assertReceivedCounts(1, 0, 2);
        assertThat(sw.learnedAddresses()).isEqualTo(1);
    }

    @Test
    void countsPerPortAndDropsOfAFullReceiver() {
        sinks[2].full = true;
        send(0, BROADCAST);
        send(0, BROADCAST);
        send(1, mac(0));
        assertThat(ports[0].txFrames()).isEqualTo(2);
        assertThat(ports[1].txFrames()).isEqualTo(1);
        assertThat(ports[0].rxFrames()).isEqualTo(1);
        assertThat(ports[1].rxFrames()).isEqualTo(2);
        assertThat(ports[2].rxFrames()).isZero();
        assertThat(ports[2].droppedFrames()).isEqualTo(2);
    }

    @Test
    void aBatchFlushesEachReceiverOnce() {
        for (int i = 0; i < 5; i++) {
            tx[0].transmit(ByteBuffer.wrap(frame(BROADCAST, mac(0), i)));
        }
        assertThat(sinks[1].flushes).isZero();
        tx[0].flush();
        assertThat(sinks[1].flushes).isEqualTo(1);
        assertThat(sinks[2].flushes).isEqualTo(1);
        assertThat(sinks[1].received).hasSize(5);
        tx[0].flush(); // nothing delivered since: no flush
        assertThat(sinks[1].flushes).isEqualTo(1);
    }

    @Test
    void framesToTheSendersOwnAddressAreFiltered() {
        send(0, BROADCAST);
        send(0, mac(0));
        assertReceivedCounts(0, 1, 1);
    }

    @Test
    void switchesAreSharedByNameWithinARegistry() {
        SwitchRegistry registry = new SwitchRegistry(clock::get, AGEING, 64);
        assertThat(registry.forName("a")).isSameAs(registry.forName("a"));
        assertThat(registry.forName("a")).isNotSameAs(registry.forName("b"));
        assertThat(new SwitchBackend(registry.forName("a")).target()).isSameAs(registry.forName("a"));
    }

    @Test
    void aFullTableFloodsWhatItCannotLearn() {
        L2Switch small = new SwitchRegistry(clock::get, AGEING, 2).forName("small");
        RecordingSink a = new RecordingSink();
        RecordingSink b = new RecordingSink();
        Transmitter ta = small.attach(a, mac(0)).newTransmitter();
        small.attach(b, mac(1));
        for (int i = 0; i < 3; i++) {
            ta.transmit(ByteBuffer.wrap(frame(BROADCAST, mac(10 + i), i))); // three sources, room for two
        }
        ta.flush();
        assertThat(small.learnedAddresses()).isEqualTo(2);
        assertThat(b.received).hasSize(3);
    }
}
