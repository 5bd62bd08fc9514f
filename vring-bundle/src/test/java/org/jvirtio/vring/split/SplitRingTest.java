package org.jvirtio.vring.split;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.testkit.RawSplitRing;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestMemory;
import org.junit.jupiter.api.Test;

/** Split ring driver side against device side: what one writes, the other sees, byte for byte. */
class SplitRingTest {
    private static final int MAX_INDIRECT = 16;

    private final TestMemory memory = new TestMemory(4 << 20);

    private record Pair(DriverQueue driver, DeviceVring device, QueueConfig config) {
    }

    private Pair pair(int size, long features) throws Exception {
        QueueConfig config = RingPlacement.place(memory, size);
        long indirect = RingPlacement.indirectArea(memory, size, MAX_INDIRECT);
        DriverQueue driver = Vrings.driver(config, features, memory.map(), indirect, MAX_INDIRECT);
        DeviceVring device = Vrings.device(config, features, memory.map());
        return new Pair(driver, device, config);
    }

    @Test
    void deviceSeesExactlyWhatTheDriverAddedAndDriverSeesWhatTheDeviceWrote() throws Exception {
        for (boolean indirect : new boolean[] {false, true}) {
            Pair p = pair(16, VirtioFeature.of(VirtioFeature.RING_INDIRECT_DESC));
            long out1 = memory.store("hello ".getBytes());
            long out2 = memory.store("world".getBytes());
            long in = memory.allocate(32, 8);
            ScatterGatherList sg = new ScatterGatherList(4).addReadable(out1, 6).addReadable(out2, 5).addWritable(in, 32);
            assertThat(p.driver.add(sg, 77, indirect)).isTrue();
            assertThat(p.driver.kick()).isTrue();

            DescriptorChain chain = p.device.newChain();
            assertThat(p.device.pop(chain)).isTrue();
            assertThat(chain.count()).isEqualTo(3);
            assertThat(chain.readableCount()).isEqualTo(2);
            assertThat(chain.readableBytes()).isEqualTo(11);
            assertThat(chain.writableBytes()).isEqualTo(32);
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < chain.readableCount(); i++) {
                byte[] bytes = new byte[chain.length(i)];
                chain.memory().read(chain.address(i), bytes, 0, bytes.length);
                text.append(new String(bytes));
            }
            assertThat(text.toString()).isEqualTo("hello world");
            assertThat(chain.isWritable(2)).isTrue();
            byte[] reply = "HELLO WORLD".getBytes();
            chain.memory().write(chain.address(2), reply, 0, reply.length);
            p.device.addUsed(chain, reply.length);
            assertThat(p.device.pop(chain)).isFalse();
            assertThat(p.device.publishUsed()).isTrue();

            assertThat(p.driver.pollUsed()).isEqualTo(77);
            assertThat(p.driver.lastUsedLength()).isEqualTo(reply.length);
            assertThat(memory.load(in, reply.length)).isEqualTo(reply);
            assertThat(p.driver.pollUsed()).isEqualTo(DriverQueue.NO_TOKEN);
            assertThat(p.driver.freeDescriptors()).isEqualTo(16);
        }
    }

    @Test
    void indexesWrapAroundSixteenBitsManyTimes() throws Exception {
        Pair p = pair(4, 0);
        long buf = memory.allocate(64, 8);
        ScatterGatherList sg = new ScatterGatherList(2);
        DescriptorChain chain = p.device.newChain();
        for (int i = 0; i < 200_000; i++) {
            sg.clear().addReadable(buf, 8).addWritable(buf + 8, 8);
            assertThat(p.driver.add(sg, i & 0x7FFF_FFFF, false)).isTrue();
            p.driver.kick();
            assertThat(p.device.pop(chain)).isTrue();
            p.device.addUsed(chain, i & 7);
            p.device.publishUsed();
            assertThat(p.driver.pollUsed()).isEqualTo(i);
            assertThat(p.driver.lastUsedLength()).isEqualTo(i & 7);
        }
        assertThat(p.device.error()).isEqualTo(QueueError.NONE);
        assertThat(p.driver.error()).isEqualTo(QueueError.NONE);
    }

    @Test
    void outOfOrderCompletionFreesTheRightDescriptors() throws Exception {
        Pair p = pair(8, 0);
        long buf = memory.allocate(1024, 8);
        ScatterGatherList sg = new ScatterGatherList(4);
        for (int t = 0; t < 4; t++) {
            sg.clear().addReadable(buf, 16).addWritable(buf + 64 * t, 8);
            assertThat(p.driver.add(sg, t, false)).isTrue();
        }
        assertThat(p.driver.freeDescriptors()).isZero();
        assertThat(p.driver.add(sg.clear().addReadable(buf, 1), 9, false)).as("ring full").isFalse();
        p.driver.kick();
        List<int[]> held = new ArrayList<>();
        DescriptorChain chain = p.device.newChain();
        while (p.device.pop(chain)) {
            held.add(new int[] {chain.head(), chain.ringSlots()});
        }
        assertThat(held).hasSize(4);
        int[] order = {2, 0, 3, 1};
        for (int k : order) {
            p.device.addUsed(held.get(k)[0], held.get(k)[1], k);
        }
        p.device.publishUsed();
        for (int k : order) {
            assertThat(p.driver.pollUsed()).isEqualTo(k);
            assertThat(p.driver.lastUsedLength()).isEqualTo(k);
        }
        assertThat(p.driver.freeDescriptors()).isEqualTo(8);
        assertThat(p.device.inFlight()).isZero();
    }

    @Test
    void inOrderDeviceHoldsBackCompletionsUntilEarlierChainsAreUsed() throws Exception {
        Pair p = pair(8, VirtioFeature.of(VirtioFeature.IN_ORDER));
        long buf = memory.allocate(1024, 8);
        ScatterGatherList sg = new ScatterGatherList(2);
        for (int t = 0; t < 3; t++) {
            p.driver.add(sg.clear().addWritable(buf + 16 * t, 16), t, false);
        }
        p.driver.kick();
        DescriptorChain chain = p.device.newChain();
        int[] heads = new int[3];
        for (int t = 0; t < 3; t++) {
            assertThat(p.device.pop(chain)).isTrue();
            heads[t] = chain.head();
        }
        p.device.addUsed(heads[2], 1, 12);
        p.device.addUsed(heads[1], 1, 11);
        assertThat(p.device.publishUsed()).as("nothing may be used before chain 0").isFalse();
        p.device.addUsed(heads[0], 1, 10);
        assertThat(p.device.publishUsed()).isTrue();
        for (int t = 0; t < 3; t++) {
            assertThat(p.driver.pollUsed()).isEqualTo(t);
            assertThat(p.driver.lastUsedLength()).isEqualTo(10 + t);
        }
    }

    @Test
    void inOrderDriverAcceptsOneUsedElementForABatch() throws Exception {
        Pair p = pair(8, VirtioFeature.of(VirtioFeature.IN_ORDER));
        long buf = memory.allocate(1024, 8);
        ScatterGatherList sg = new ScatterGatherList(2);
        int[] heads = new int[3];
        for (int t = 0; t < 3; t++) {
            p.driver.add(sg.clear().addWritable(buf + 16 * t, 16), 100 + t, false);
        }
        p.driver.kick();
        DescriptorChain chain = p.device.newChain();
        for (int t = 0; t < 3; t++) {
            p.device.pop(chain);
            heads[t] = chain.head();
        }
        RawSplitRing raw = new RawSplitRing(memory.map(), p.config);
        memory.map().putInt(p.config.deviceArea() + 4, heads[2]);
        memory.map().putInt(p.config.deviceArea() + 8, 5);
        memory.map().putShortRelease(p.config.deviceArea() + 2, (short) 1);
        assertThat(raw.usedIdx()).isEqualTo(1);
        assertThat(p.driver.pollUsed()).isEqualTo(100);
        assertThat(p.driver.pollUsed()).isEqualTo(101);
        assertThat(p.driver.pollUsed()).isEqualTo(102);
        assertThat(p.driver.lastUsedLength()).isEqualTo(5);
        assertThat(p.driver.pollUsed()).isEqualTo(DriverQueue.NO_TOKEN);
        assertThat(p.driver.freeDescriptors()).isEqualTo(8);
    }

    @Test
    void aDeviceRebuiltFromSavedPositionsContinuesWhereTheOldOneStopped() throws Exception {
        Pair p = pair(8, 0);
        long buf = memory.allocate(256, 8);
        ScatterGatherList sg = new ScatterGatherList(1);
        DescriptorChain chain = p.device.newChain();
        for (int t = 0; t < 5; t++) {
            p.driver.add(sg.clear().addWritable(buf, 8), t, false);
            p.driver.kick();
            p.device.pop(chain);
            p.device.addUsed(chain, t);
            p.device.publishUsed();
            assertThat(p.driver.pollUsed()).isEqualTo(t);
        }
        p.driver.add(sg.clear().addWritable(buf, 8), 5, false);
        p.driver.kick();
        DeviceVring resumed = Vrings.device(p.config, 0, memory.map(), p.device.availPosition(), p.device.usedPosition());
        assertThat(resumed.availPosition()).isEqualTo(5);
        assertThat(resumed.pop(chain)).isTrue();
        resumed.addUsed(chain, 7);
        resumed.publishUsed();
        assertThat(p.driver.pollUsed()).isEqualTo(5);
        assertThat(p.driver.lastUsedLength()).isEqualTo(7);
    }

    @Test
    void devicePublishesABatchWithOneIndexStore() throws Exception {
        Pair p = pair(16, 0);
        long buf = memory.allocate(256, 8);
        ScatterGatherList sg = new ScatterGatherList(1);
        for (int t = 0; t < 5; t++) {
            p.driver.add(sg.clear().addWritable(buf, 8), t, false);
        }
        p.driver.kick();
        RawSplitRing raw = new RawSplitRing(memory.map(), p.config);
        DescriptorChain chain = p.device.newChain();
        while (p.device.pop(chain)) {
            p.device.addUsed(chain, 1);
            assertThat(raw.usedIdx()).as("not visible before publishUsed").isZero();
        }
        p.device.publishUsed();
        assertThat(raw.usedIdx()).isEqualTo(5);
        assertThat(p.device.publishUsed()).as("nothing new to publish").isFalse();
    }

    @Test
    void deviceMayNotCompleteAChainItDoesNotHold() throws Exception {
        Pair p = pair(8, 0);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> p.device.addUsed(3, 1, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aChainViewTooSmallForThisQueueIsRefusedWithoutBreakingIt() throws Exception {
        Pair small = pair(8, 0);
        Pair large = pair(2048, 0);
        long buf = memory.allocate(64, 8);
        large.driver.add(new ScatterGatherList(1).addWritable(buf, 8), 1, false);
        large.driver.kick();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> large.device.pop(small.device.newChain()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(large.device.error()).isEqualTo(QueueError.NONE);
        assertThat(large.device.pop(large.device.newChain())).isTrue();
    }

    @Test
    void driverBreaksOnAUsedIdThatIsNotInFlight() throws Exception {
        Pair p = pair(8, 0);
        long buf = memory.allocate(64, 8);
        p.driver.add(new ScatterGatherList(1).addWritable(buf, 8), 1, false);
        p.driver.kick();
        memory.map().putInt(p.config.deviceArea() + 4, 5);
        memory.map().putShortRelease(p.config.deviceArea() + 2, (short) 1);
        assertThat(p.driver.pollUsed()).isEqualTo(DriverQueue.NO_TOKEN);
        assertThat(p.driver.error()).isEqualTo(QueueError.USED_ID_INVALID);
        assertThat(p.driver.add(new ScatterGatherList(1).addWritable(buf, 8), 2, false)).isFalse();
    }

    @Test
    void driverBreaksOnAUsedLengthLargerThanTheBuffer() throws Exception {
        Pair p = pair(8, 0);
        long buf = memory.allocate(64, 8);
        p.driver.add(new ScatterGatherList(1).addWritable(buf, 8), 1, false);
        p.driver.kick();
        memory.map().putInt(p.config.deviceArea() + 4, 0);
        memory.map().putInt(p.config.deviceArea() + 8, 9);
        memory.map().putShortRelease(p.config.deviceArea() + 2, (short) 1);
        assertThat(p.driver.pollUsed()).isEqualTo(DriverQueue.NO_TOKEN);
        assertThat(p.driver.error()).isEqualTo(QueueError.USED_LENGTH_TOO_LARGE);
    }

    @Test
    void driverBreaksOnAUsedIndexAheadOfWhatIsInFlight() throws Exception {
        Pair p = pair(8, 0);
        memory.map().putShortRelease(p.config.deviceArea() + 2, (short) 3);
        assertThat(p.driver.pollUsed()).isEqualTo(DriverQueue.NO_TOKEN);
        assertThat(p.driver.error()).isEqualTo(QueueError.USED_INDEX_TOO_FAR);
    }

    @Test
    void chainsAreViewsThatAllocateOnlyOnce() throws Exception {
        Pair p = pair(8, 0);
        DescriptorChain a = p.device.newChain();
        assertThat(a).isNotSameAs(p.device.newChain());
        assertThat(Arrays.asList(a.count(), a.readableCount())).containsExactly(0, 0);
    }
}
