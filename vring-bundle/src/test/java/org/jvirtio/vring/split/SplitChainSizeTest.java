package org.jvirtio.vring.split;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jvirtio.vring.testkit.RawSplitRing.NEXT;
import static org.jvirtio.vring.testkit.RawSplitRing.WRITE;

import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.nativeio.MappedMemory;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.memory.GuestMemoryMap;
import org.jvirtio.vring.memory.GuestRegion;
import org.jvirtio.vring.testkit.RawSplitRing;
import org.junit.jupiter.api.Test;

/**
 * A chain's total length must fit the used element's 32-bit length. Proving it needs a guest with
 * more than 4 GiB mapped: an anonymous shared mapping, whose untouched pages cost nothing.
 */
class SplitChainSizeTest {
    private static final long GUEST = 0x1_0000_0000L;
    private static final long SIZE = (4L << 30) + (1 << 20);

    @Test
    void chainOverFourGigabytesIsRejectedAndOneJustUnderIsAccepted() throws Exception {
        try (MappedMemory backing = MappedMemory.anonymous(SIZE)) {
            GuestMemoryMap map = GuestMemoryMap.of(new GuestRegion(GUEST, backing));
            long rings = GUEST + SIZE - (64 << 10);
            QueueConfig config = new QueueConfig(4, rings, rings + 0x1000, rings + 0x2000);
            RawSplitRing ring = new RawSplitRing(map, config);

            ring.descriptor(0, GUEST, 0xFFFF_FFFF, WRITE, 0).makeAvailable(0);
            DeviceVring queue = Vrings.device(config, 0, map);
            DescriptorChain chain = queue.newChain();
            assertThat(queue.pop(chain)).isTrue();
            assertThat(chain.writableBytes()).isEqualTo(0xFFFF_FFFFL);
            queue.addUsed(chain, 0);

            ring.descriptor(1, GUEST, 0xFFFF_FFFF, WRITE | NEXT, 2).descriptor(2, GUEST, 1, WRITE, 0).makeAvailable(1);
            assertThat(queue.pop(chain)).isFalse();
            assertThat(queue.error()).isEqualTo(QueueError.CHAIN_TOO_LARGE);
        }
    }
}
