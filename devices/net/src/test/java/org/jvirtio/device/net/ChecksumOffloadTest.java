package org.jvirtio.device.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** CSUM: the device completes the partial checksum the driver asked for before the backend sees the frame. */
class ChecksumOffloadTest {

    /** The ones' complement sum of {@code b[from..]} as big-endian 16-bit words, folded. */
    private static int fold(byte[] b, int from, long start) {
        long sum = start;
        for (int i = from; i < b.length; i += 2) {
            sum += (b[i] & 0xFF) << 8 | (i + 1 < b.length ? b[i + 1] & 0xFF : 0);
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }

    private static byte[] partial(byte[] frame, int start, int offset) {
        byte[] chain = Frames.withHeader(NetHeader.F_NEEDS_CSUM, 0, frame);
        ByteBuffer.wrap(chain).order(ByteOrder.LITTLE_ENDIAN).putShort(NetHeader.CSUM_START, (short) start)
                .putShort(NetHeader.CSUM_OFFSET, (short) offset);
        return chain;
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void ipv4HeaderChecksumOfAKnownHeader(boolean packed) throws Exception {
        NetRig rig = new NetRig(packed);
        // 14 bytes of Ethernet, then the classic IPv4 header whose checksum is 0xB861, its field zeroed
        byte[] ip = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
                (byte) 0xC0, (byte) 0xA8, 0x00, 0x01, (byte) 0xC0, (byte) 0xA8, 0x00, (byte) 0xC7};
        byte[] frame = Frames.frame(Frames.BROADCAST, Frames.mac(1), 14 + ip.length, 0);
        System.arraycopy(ip, 0, frame, 14, ip.length);
        assertThat(rig.transmit(1, partial(frame, 14, 10))).isZero();
        byte[] sent = rig.backend.sent.get(0);
        assertThat(sent[24] & 0xFF).isEqualTo(0xB8);
        assertThat(sent[25] & 0xFF).isEqualTo(0x61);
        sent[24] = 0;
        sent[25] = 0;
        assertThat(sent).isEqualTo(frame); // nothing else changed
        rig.assertStillWorks();
    }

    @ParameterizedTest(name = "length={0}")
    @ValueSource(ints = {60, 61, 333, 1514})
    void aReceiverVerifiesWhatTheDeviceCompleted(int length) throws Exception {
        NetRig rig = new NetRig(false);
        Random random = new Random(length);
        byte[] frame = Frames.frame(Frames.BROADCAST, Frames.mac(1), length, 0);
        random.nextBytes(frame);
        int start = 34; // after an IPv4 header, as for TCP or UDP
        int offset = 16; // TCP's checksum field
        int pseudoHeaderSum = random.nextInt(0x10000);
        frame[start + offset] = (byte) (pseudoHeaderSum >>> 8); // the driver's part: the folded pseudo-header sum
        frame[start + offset + 1] = (byte) pseudoHeaderSum;
        assertThat(rig.transmit(1, partial(frame, start, offset))).isZero();
        byte[] sent = rig.backend.sent.get(0);
        // the receiver adds the pseudo-header to the segment with its checksum and expects all ones
        assertThat(fold(sent, start, pseudoHeaderSum)).isEqualTo(0xFFFF);
        assertThat(rig.device.metrics(1).get(NetCounter.TX_FRAMES)).isEqualTo(1);
    }
}
