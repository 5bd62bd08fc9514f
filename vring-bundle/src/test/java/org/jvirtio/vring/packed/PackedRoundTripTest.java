package org.jvirtio.vring.packed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jvirtio.api.queue.DriverQueue.NO_TOKEN;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.api.queue.ScatterGatherList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Buffers go driver → device → driver through a packed ring, and come back right. */
class PackedRoundTripTest {
    private static final long INDIRECT = VirtioFeature.of(VirtioFeature.RING_INDIRECT_DESC);
    private static final long IN_ORDER = VirtioFeature.of(VirtioFeature.IN_ORDER);
    private static final long EVENT_IDX = VirtioFeature.of(VirtioFeature.RING_EVENT_IDX);

    private PackedPair pair;

    @AfterEach
    void healthy() {
        if (pair != null) {
            assertThat(pair.memory.guardsIntact()).isTrue();
            assertThat(pair.device.error()).isEqualTo(QueueError.NONE);
            assertThat(pair.driver.error()).isEqualTo(QueueError.NONE);
        }
    }

    private long buffer(int length, int fill) {
        long at = pair.memory.allocate(length, 16);
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, (byte) fill);
        pair.memory.map().write(at, bytes, 0, length);
        return at;
    }

    @Test
    void oneDescriptor() throws Exception {
        pair = new PackedPair(8, 0);
        long out = buffer(32, 0x11);
        assertThat(pair.driver.add(new ScatterGatherList(1).addReadable(out, 32), 7, false)).isTrue();
        assertThat(pair.driver.freeDescriptors()).isEqualTo(7);
        assertThat(pair.driver.kick()).isTrue();
        DescriptorChain chain = pair.device.newChain();
        assertThat(pair.device.pop(chain)).isTrue();
        assertThat(chain.count()).isEqualTo(1);
        assertThat(chain.readableCount()).isEqualTo(1);
        assertThat(chain.address(0)).isEqualTo(out);
        assertThat(chain.length(0)).isEqualTo(32);
        assertThat(chain.ringSlots()).isEqualTo(1);
        assertThat(pair.device.pop(chain)).isFalse();
        pair.device.addUsed(chain.head(), chain.ringSlots(), 0);
        assertThat(pair.device.publishUsed()).isTrue();
        assertThat(pair.driver.pollUsed()).isEqualTo(7);
        assertThat(pair.driver.lastUsedLength()).isZero();
        assertThat(pair.driver.pollUsed()).isEqualTo(NO_TOKEN);
        assertThat(pair.driver.freeDescriptors()).isEqualTo(8);
        assertThat(pair.device.availPosition()).isEqualTo(1 | 1 << 15);
        assertThat(pair.device.usedPosition()).isEqualTo(1 | 1 << 15);
    }

    @Test
    void chainAsLongAsTheRingWithDataBothWays() throws Exception {
        int size = 256;
        pair = new PackedPair(size, 0);
        ScatterGatherList sg = new ScatterGatherList(size);
        for (int i = 0; i < 128; i++) {
            sg.addReadable(buffer(4, i), 4);
        }
        long[] in = new long[128];
        for (int i = 0; i < 128; i++) {
            in[i] = buffer(4, 0);
            sg.addWritable(in[i], 4);
        }
        assertThat(pair.driver.add(sg, 1, false)).isTrue();
        assertThat(pair.driver.freeDescriptors()).isZero();
        assertThat(pair.driver.add(new ScatterGatherList(1).addReadable(in[0], 4), 2, false)).isFalse();
        pair.driver.kick();
        DescriptorChain chain = pair.device.newChain();
        assertThat(pair.device.pop(chain)).isTrue();
        assertThat(chain.count()).isEqualTo(256);
        assertThat(chain.ringSlots()).isEqualTo(256);
        assertThat(chain.readableBytes()).isEqualTo(512);
        assertThat(chain.writableBytes()).isEqualTo(512);
        pair.device.addUsed(chain, PackedPair.echo(chain));
        pair.device.publishUsed();
        assertThat(pair.driver.pollUsed()).isEqualTo(1);
        assertThat(pair.driver.lastUsedLength()).isEqualTo(512);
        for (int i = 0; i < 128; i++) {
            assertThat(pair.memory.load(in[i], 4)).containsOnly((byte) i);
        }
        // a full lap: both sides are back at slot 0 with the wrap counter flipped
        assertThat(pair.device.availPosition()).isZero();
        assertThat(pair.device.usedPosition()).isZero();
        assertThat(pair.driver.freeDescriptors()).isEqualTo(size);
    }

    @Test
    void indirectTableTakesOneRingSlot() throws Exception {
        pair = new PackedPair(4, INDIRECT);
        ScatterGatherList sg = new ScatterGatherList(8);
        for (int i = 0; i < 4; i++) {
            sg.addReadable(buffer(8, 0x30 + i), 8);
        }
        long[] in = new long[4];
        for (int i = 0; i < 4; i++) {
            in[i] = buffer(8, 0);
            sg.addWritable(in[i], 8);
        }
        for (int round = 0; round < 9; round++) {
            assertThat(pair.driver.add(sg, round, true)).isTrue();
            assertThat(pair.driver.freeDescriptors()).isEqualTo(3);
            pair.driver.kick();
            DescriptorChain chain = pair.device.newChain();
            assertThat(pair.device.pop(chain)).isTrue();
            assertThat(chain.count()).isEqualTo(8);
            assertThat(chain.readableCount()).isEqualTo(4);
            assertThat(chain.ringSlots()).isEqualTo(1);
            pair.device.addUsed(chain, PackedPair.echo(chain));
            pair.device.publishUsed();
            assertThat(pair.driver.pollUsed()).isEqualTo(round);
            assertThat(pair.driver.lastUsedLength()).isEqualTo(32);
        }
        for (int i = 0; i < 4; i++) {
            assertThat(pair.memory.load(in[i], 8)).containsOnly((byte) (0x30 + i));
        }
        assertThat(pair.device.availPosition()).isEqualTo(0x8001); // 9 slots on a ring of 4: two laps, slot 1
    }

    @Test
    void nothingIsVisibleToTheDeviceBeforeKick() throws Exception {
        pair = new PackedPair(8, 0);
        long out = buffer(16, 1);
        pair.driver.add(new ScatterGatherList(1).addReadable(out, 16), 1, false);
        pair.driver.add(new ScatterGatherList(2).addReadable(out, 8).addReadable(out + 8, 8), 2, false);
        DescriptorChain chain = pair.device.newChain();
        assertThat(pair.device.hasAvailable()).isFalse();
        assertThat(pair.device.pop(chain)).isFalse();
        pair.driver.kick();
        assertThat(pair.device.hasAvailable()).isTrue();
        assertThat(pair.device.pop(chain)).isTrue();
        assertThat(pair.device.pop(chain)).isTrue();
        assertThat(chain.count()).isEqualTo(2);
        assertThat(pair.device.pop(chain)).isFalse();
    }

    @Test
    void nothingIsVisibleToTheDriverBeforePublish() throws Exception {
        pair = new PackedPair(8, 0);
        long out = buffer(16, 1);
        for (int t = 0; t < 3; t++) {
            pair.driver.add(new ScatterGatherList(1).addReadable(out, 16), t, false);
        }
        pair.driver.kick();
        DescriptorChain chain = pair.device.newChain();
        for (int t = 0; t < 3; t++) {
            assertThat(pair.device.pop(chain)).isTrue();
            pair.device.addUsed(chain, 0);
        }
        assertThat(pair.driver.pollUsed()).isEqualTo(NO_TOKEN);
        assertThat(pair.driver.enableInterrupts()).isFalse();
        pair.device.publishUsed();
        assertThat(pair.driver.enableInterrupts()).isTrue();
        assertThat(pair.driver.pollUsed()).isZero();
        assertThat(pair.driver.pollUsed()).isEqualTo(1);
        assertThat(pair.driver.pollUsed()).isEqualTo(2);
        assertThat(pair.driver.pollUsed()).isEqualTo(NO_TOKEN);
    }

    @Test
    void outOfOrderCompletionReusesIds() throws Exception {
        pair = new PackedPair(4, 0);
        long b = buffer(64, 0);
        DescriptorChain a = pair.device.newChain();
        DescriptorChain bb = pair.device.newChain();
        DescriptorChain c = pair.device.newChain();
        pair.driver.add(new ScatterGatherList(1).addWritable(b, 8), 100, false);
        pair.driver.add(new ScatterGatherList(2).addReadable(b + 8, 8).addWritable(b + 16, 8), 101, false);
        pair.driver.add(new ScatterGatherList(1).addWritable(b + 24, 8), 102, false);
        assertThat(pair.driver.freeDescriptors()).isZero();
        pair.driver.kick();
        assertThat(pair.device.pop(a)).isTrue();
        assertThat(pair.device.pop(bb)).isTrue();
        assertThat(pair.device.pop(c)).isTrue();
        assertThat(bb.ringSlots()).isEqualTo(2);
        assertThat(IntStream.of(a.head(), bb.head(), c.head()).distinct().count()).isEqualTo(3);
        int headA = a.head();
        int headC = c.head();
        int headB = bb.head();
        // complete C, then A: used descriptors land in slots 0 and 1
        pair.device.addUsed(headC, 1, 3);
        pair.device.addUsed(headA, 1, 5);
        pair.device.publishUsed();
        assertThat(pair.raw.id(0)).isEqualTo(headC);
        assertThat(pair.raw.id(1)).isEqualTo(headA);
        assertThat(pair.driver.pollUsed()).isEqualTo(102);
        assertThat(pair.driver.lastUsedLength()).isEqualTo(3);
        assertThat(pair.driver.pollUsed()).isEqualTo(100);
        assertThat(pair.driver.lastUsedLength()).isEqualTo(5);
        assertThat(pair.driver.freeDescriptors()).isEqualTo(2);
        // a two-descriptor chain now takes slots 0 and 1 of the next lap with a freed id
        assertThat(pair.driver.add(new ScatterGatherList(2).addReadable(b + 32, 8).addWritable(b + 40, 8), 103,
                false)).isTrue();
        pair.driver.kick();
        DescriptorChain d = pair.device.newChain();
        assertThat(pair.device.pop(d)).isTrue();
        assertThat(d.head()).isIn(headA, headC);
        assertThat(d.address(0)).isEqualTo(b + 32);
        pair.device.addUsed(d, 8);
        pair.device.addUsed(headB, 2, 8);
        pair.device.publishUsed();
        assertThat(pair.driver.pollUsed()).isEqualTo(103);
        assertThat(pair.driver.pollUsed()).isEqualTo(101);
        assertThat(pair.driver.pollUsed()).isEqualTo(NO_TOKEN);
        assertThat(pair.driver.freeDescriptors()).isEqualTo(4);
        assertThat(pair.device.availPosition()).isEqualTo(pair.device.usedPosition()).isEqualTo(2);
    }

    @Test
    void inOrderDeviceEmitsInPopOrder() throws Exception {
        pair = new PackedPair(8, IN_ORDER);
        long b = buffer(64, 0);
        for (int t = 0; t < 3; t++) {
            pair.driver.add(new ScatterGatherList(1).addWritable(b + 16 * t, 16), 10 + t, false);
        }
        pair.driver.kick();
        DescriptorChain[] chains = {pair.device.newChain(), pair.device.newChain(), pair.device.newChain()};
        for (DescriptorChain chain : chains) {
            assertThat(pair.device.pop(chain)).isTrue();
        }
        pair.device.addUsed(chains[2], 3);
        assertThat(pair.device.publishUsed()).as("nothing written yet").isFalse();
        assertThat(pair.driver.pollUsed()).isEqualTo(NO_TOKEN);
        assertThat(pair.device.inFlight()).isEqualTo(2);
        pair.device.addUsed(chains[0], 1);
        assertThat(pair.device.publishUsed()).isTrue();
        assertThat(pair.driver.pollUsed()).isEqualTo(10);
        assertThat(pair.driver.lastUsedLength()).isEqualTo(1);
        assertThat(pair.driver.pollUsed()).isEqualTo(NO_TOKEN);
        pair.device.addUsed(chains[1], 2);
        pair.device.publishUsed();
        assertThat(pair.driver.pollUsed()).isEqualTo(11);
        assertThat(pair.driver.lastUsedLength()).isEqualTo(2);
        assertThat(pair.driver.pollUsed()).isEqualTo(12);
        assertThat(pair.driver.lastUsedLength()).isEqualTo(3);
        assertThat(pair.device.usedPosition()).isEqualTo(3 | 1 << 15);
    }

    @Test
    void inOrderCompletedButHeldBackIdIsStillInUse() throws Exception {
        pair = new PackedPair(8, IN_ORDER);
        long b = buffer(64, 0);
        pair.raw.offer(b, 8, 0, 0).offer(b, 8, 1, 0).offer(b, 8, 1, 0);
        DescriptorChain first = pair.device.newChain();
        DescriptorChain second = pair.device.newChain();
        assertThat(pair.device.pop(first)).isTrue();
        assertThat(pair.device.pop(second)).isTrue();
        pair.device.addUsed(second, 0); // waits for the first: the driver has not seen id 1 used
        assertThat(pair.device.pop(second)).isFalse();
        assertThat(pair.device.error()).isEqualTo(QueueError.BUFFER_ID_IN_USE);
        pair = null;
    }

    @Test
    void driverExpandsOneUsedDescriptorForAnInOrderBatch() throws Exception {
        pair = new PackedPair(4, IN_ORDER);
        long b = buffer(64, 0);
        pair.driver.add(new ScatterGatherList(1).addWritable(b, 8), 20, false);
        pair.driver.add(new ScatterGatherList(2).addReadable(b + 8, 8).addWritable(b + 16, 8), 21, false);
        pair.driver.add(new ScatterGatherList(1).addWritable(b + 24, 8), 22, false);
        pair.driver.kick();
        assertThat(pair.driver.freeDescriptors()).isZero();
        // a device writes one used descriptor for all three, over the first slot, with the last id
        int lastId = pair.raw.id(3);
        pair.raw.used(0, lastId, 6, true);
        assertThat(pair.driver.pollUsed()).isEqualTo(20);
        assertThat(pair.driver.lastUsedLength()).isZero();
        assertThat(pair.driver.freeDescriptors()).isEqualTo(1);
        // the freed slot is slot 0 of the next lap, where the batch's used descriptor sits: adding
        // now must not lose the rest of the batch
        assertThat(pair.driver.add(new ScatterGatherList(1).addWritable(b + 32, 8), 23, false)).isTrue();
        pair.driver.kick();
        assertThat(pair.driver.pollUsed()).isEqualTo(21);
        assertThat(pair.driver.lastUsedLength()).isZero();
        assertThat(pair.driver.pollUsed()).isEqualTo(22);
        assertThat(pair.driver.lastUsedLength()).isEqualTo(6);
        assertThat(pair.driver.pollUsed()).isEqualTo(NO_TOKEN);
        // the device skipped 4 slots: its next used descriptor is slot 0 of the next lap
        pair.raw.used(0, pair.raw.id(0), 8, false);
        assertThat(pair.driver.pollUsed()).isEqualTo(23);
        assertThat(pair.driver.lastUsedLength()).isEqualTo(8);
        assertThat(pair.driver.inFlight()).isZero();
        assertThat(pair.driver.freeDescriptors()).isEqualTo(4);
    }

    @Test
    void ringFullThenDrainedManyTimes() throws Exception {
        for (int size : new int[] {1, 3, 7}) {
            pair = new PackedPair(size, 0);
            long b = buffer(16, 0);
            DescriptorChain chain = pair.device.newChain();
            int token = 0;
            for (int lap = 0; lap < 5; lap++) {
                int added = 0;
                while (pair.driver.add(new ScatterGatherList(1).addWritable(b, 16), token + added, false)) {
                    added++;
                }
                assertThat(added).isEqualTo(size);
                pair.driver.kick();
                for (int i = 0; i < size; i++) {
                    assertThat(pair.device.pop(chain)).isTrue();
                    pair.device.addUsed(chain, 16);
                }
                pair.device.publishUsed();
                for (int i = 0; i < size; i++) {
                    assertThat(pair.driver.pollUsed()).isEqualTo(token + i);
                }
                token += size;
                assertThat(pair.device.availPosition()).isEqualTo(lap % 2 == 0 ? 0 : 1 << 15);
            }
            healthy();
        }
    }

    static Stream<Arguments> rings() {
        List<Arguments> all = new ArrayList<>();
        long[] featureSets = {0, INDIRECT, IN_ORDER, EVENT_IDX, INDIRECT | IN_ORDER | EVENT_IDX};
        for (int size : new int[] {1, 3, 7, 256}) {
            for (long features : featureSets) {
                all.add(Arguments.of(size, features));
            }
        }
        return all.stream();
    }

    /**
     * Random interleavings of add, kick, pop, complete (in any order), publish and poll, checked
     * against a model of what each side may see: the device sees only kicked chains, in order; the
     * driver sees only published completions, in completion order (pop order with IN_ORDER); data
     * and lengths arrive intact; both sides go round the ring many times.
     */
    @ParameterizedTest(name = "size {0}, features 0x{1}")
    @MethodSource("rings")
    void randomInterleavingsMatchTheModel(int size, long features) throws Exception {
        pair = new PackedPair(size, features);
        boolean inOrder = (features & IN_ORDER) != 0;
        boolean indirect = (features & INDIRECT) != 0;
        Random random = new Random(size * 1_000_003L + features);
        int regionSize = 256;
        long regions = pair.memory.allocate((long) regionSize * size, 16);
        Deque<Integer> freeRegions = new ArrayDeque<>();
        for (int i = 0; i < size; i++) {
            freeRegions.add(i);
        }
        Map<Integer, Expect> expectation = new HashMap<>();
        Deque<Integer> unkicked = new ArrayDeque<>();
        Deque<Integer> kicked = new ArrayDeque<>();
        List<Object[]> held = new ArrayList<>(); // {token, head, slots, length}
        Deque<Integer> popOrder = new ArrayDeque<>();
        Map<Integer, Integer> completedLength = new HashMap<>();
        Deque<Integer> written = new ArrayDeque<>();
        Deque<Integer> visible = new ArrayDeque<>();
        ScatterGatherList sg = new ScatterGatherList(8);
        DescriptorChain chain = pair.device.newChain();
        int nextToken = 0;
        long slotsPopped = 0;
        for (int step = 0; step < 20_000 || slotsPopped < 12L * size; step++) {
            int action = random.nextInt(100);
            if (action < 30) {
                boolean useIndirect = indirect && random.nextInt(3) == 0;
                int n = 1 + random.nextInt(useIndirect ? PackedPair.MAX_INDIRECT : Math.min(size, 4));
                if (freeRegions.isEmpty()) {
                    continue;
                }
                int region = freeRegions.peek();
                int readable = random.nextInt(n + 1);
                sg.clear();
                long base = regions + (long) region * regionSize;
                int readableBytes = 0;
                int writableBytes = 0;
                int[] lengths = new int[n];
                for (int i = 0; i < n; i++) {
                    long at = base + 32L * i;
                    int length = 1 + random.nextInt(32);
                    lengths[i] = length;
                    if (i < readable) {
                        byte[] data = new byte[length];
                        for (int k = 0; k < length; k++) {
                            data[k] = (byte) (nextToken * 7 + readableBytes + k);
                        }
                        pair.memory.map().write(at, data, 0, length);
                        sg.addReadable(at, length);
                        readableBytes += length;
                    } else {
                        pair.memory.map().write(at, new byte[32], 0, 32);
                        sg.addWritable(at, length);
                        writableBytes += length;
                    }
                }
                boolean room = pair.driver.freeDescriptors() >= (useIndirect ? 1 : n);
                assertThat(pair.driver.add(sg, nextToken, useIndirect)).isEqualTo(room);
                if (room) {
                    freeRegions.remove();
                    expectation.put(nextToken,
                            new Expect(region, Math.min(readableBytes, writableBytes), readable, lengths));
                    unkicked.add(nextToken++);
                }
            } else if (action < 40) {
                assertThat(pair.driver.kick() || unkicked.isEmpty() || (features & EVENT_IDX) != 0).isTrue();
                kicked.addAll(unkicked);
                unkicked.clear();
            } else if (action < 60) {
                boolean popped = pair.device.pop(chain);
                assertThat(popped).isEqualTo(!kicked.isEmpty());
                if (popped) {
                    int token = kicked.remove();
                    Expect e = expectation.get(token);
                    assertThat(chain.count()).isEqualTo(e.lengths.length);
                    assertThat(chain.readableCount()).isEqualTo(e.readable);
                    int length = PackedPair.echo(chain);
                    assertThat(length).isEqualTo(e.length);
                    held.add(new Object[] {token, chain.head(), chain.ringSlots(), length});
                    popOrder.add(token);
                    slotsPopped += chain.ringSlots();
                }
            } else if (action < 80) {
                if (held.isEmpty()) {
                    continue;
                }
                Object[] h = held.remove(random.nextInt(held.size()));
                int token = (Integer) h[0];
                pair.device.addUsed((Integer) h[1], (Integer) h[2], (Integer) h[3]);
                if (!inOrder) {
                    written.add(token);
                } else {
                    completedLength.put(token, (Integer) h[3]);
                    while (!popOrder.isEmpty() && completedLength.containsKey(popOrder.peek())) {
                        written.add(popOrder.remove());
                    }
                }
            } else if (action < 88) {
                boolean notify = pair.device.publishUsed();
                if (written.isEmpty()) {
                    assertThat(notify).isFalse();
                }
                visible.addAll(written);
                written.clear();
            } else {
                int token = pair.driver.pollUsed();
                if (visible.isEmpty()) {
                    assertThat(token).isEqualTo(NO_TOKEN);
                    continue;
                }
                assertThat(token).isEqualTo(visible.remove());
                Expect e = expectation.remove(token);
                assertThat(pair.driver.lastUsedLength()).isEqualTo(e.length);
                checkEcho(token, pair.memory.load(regions + (long) e.region * regionSize, regionSize), e);
                freeRegions.add(e.region);
                completedLength.remove(token);
            }
        }
        assertThat(slotsPopped).isGreaterThanOrEqualTo(10L * size);
        // drain
        kicked.addAll(unkicked);
        pair.driver.kick();
        while (pair.device.pop(chain)) {
            pair.device.addUsed(chain, PackedPair.echo(chain));
        }
        for (Object[] h : held) {
            pair.device.addUsed((Integer) h[1], (Integer) h[2], (Integer) h[3]);
        }
        pair.device.publishUsed();
        while (pair.driver.pollUsed() != NO_TOKEN) {
            // collect
        }
        assertThat(pair.driver.inFlight()).isZero();
        assertThat(pair.device.inFlight()).isZero();
        assertThat(pair.driver.freeDescriptors()).isEqualTo(size);
        assertThat(pair.device.availPosition()).isEqualTo(pair.device.usedPosition());
    }

    private record Expect(int region, int length, int readable, int[] lengths) {
    }

    /**
     * The writable buffers (at 32-byte strides after the readable ones) hold the readable bytes of
     * the same chain, in order, as far as they reach: readable byte j of token t was (t * 7 + j).
     */
    private static void checkEcho(int token, byte[] region, Expect e) {
        int written = 0;
        for (int i = e.readable; i < e.lengths.length; i++) {
            for (int k = 0; k < e.lengths[i] && written < e.length; k++) {
                assertThat(region[32 * i + k]).isEqualTo((byte) (token * 7 + written));
                written++;
            }
        }
        assertThat(written).isEqualTo(e.length);
    }
}
