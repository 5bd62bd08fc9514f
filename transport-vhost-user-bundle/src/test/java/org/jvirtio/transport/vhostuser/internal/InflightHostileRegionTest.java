package org.jvirtio.transport.vhostuser.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Random;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.transport.vhostuser.internal.InflightRig.Held;
import org.jvirtio.transport.vhostuser.internal.InflightRig.Stop;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.VringSetupException;
import org.jvirtio.vring.Vrings;

/**
 * The front end can write the in-flight area: whatever it holds, recovery either succeeds or throws
 * {@link Failure} naming the contradiction (the ring then does not start), and recording stops with a
 * warning when it finds the area inconsistent. Never another exception, never an access outside the
 * region or guest memory, never a hang.
 */
@Timeout(60)
class InflightHostileRegionTest {
    private static final int SIZE = 16;

    // QueueRegionPacked / DescStatePacked (vhost-user.rst)
    private static final int FREE_HEAD = 12;
    private static final int OLD_FREE_HEAD = 14;
    private static final int USED_IDX = 16;
    private static final int OLD_USED_IDX = 18;
    private static final int INFLIGHT = 0;
    private static final int NEXT = 2;
    private static final int LAST = 4;
    private static final int NUM = 6;
    private static final int COUNTER = 8;

    private static int desc(int entry) {
        return 32 + 32 * entry;
    }

    /**
     * A packed rig with a real record: 5 round trips, then tokens 0..2 popped and held (token 1 with
     * two descriptors, token 2 with three). Returns the head entries of the three chains.
     */
    private static InflightRig recorded(int[] heads) throws Exception {
        InflightRig rig = new InflightRig(SIZE, InflightRig.PACKED);
        rig.roundTrips(5, 1000);
        for (int t = 0; t < 3; t++) {
            rig.add(t, false);
            rig.pop();
        }
        int found = 0;
        for (int e = 0; e < SIZE; e++) {
            if (rig.region.get(desc(e) + INFLIGHT) != 0) {
                heads[found++] = e;
            }
        }
        assertThat(found).isEqualTo(3);
        java.util.Arrays.sort(heads, 0, 3); // by entry; counters tell the order
        return rig;
    }

    private static int head(InflightRig rig, int[] heads, int slots) {
        for (int h : heads) {
            if (rig.region.getShort(desc(h) + NUM) == slots) {
                return h;
            }
        }
        throw new AssertionError("no chain of " + slots);
    }

    private static void assertRecoveryFails(InflightRig rig, String message) {
        assertThatThrownBy(() -> rig.restart(InflightRig.PACKED_START, InflightRig.PACKED_START))
                .isInstanceOf(Failure.class).hasMessageContaining(message);
        assertThat(rig.memory.guardsIntact()).isTrue();
    }

    private static void corruptAndFail(Consumer<InflightRig> corrupt, String message) throws Exception {
        int[] heads = new int[3];
        InflightRig rig = recorded(heads);
        corrupt.accept(rig);
        assertRecoveryFails(rig, message);
    }

    @Test
    void aRecordedRegionRecoversAsIs() throws Exception {
        InflightRig rig = recorded(new int[3]);
        assertThat(rig.restart(InflightRig.PACKED_START, InflightRig.PACKED_START).resubmissions()).hasSize(3);
    }

    @Test
    void freeListThatLoopsIsRefused() throws Exception {
        corruptAndFail(rig -> {
            int free = rig.region.getShort(OLD_FREE_HEAD);
            int second = rig.region.getShort(desc(free) + NEXT);
            rig.region.putShort(desc(second) + NEXT, (short) free);
        }, "the free list loops");
    }

    @Test
    void freeListThatLoopsInARegionNeverFetchedIsRefused() throws Exception {
        InflightRig rig = new InflightRig(SIZE, InflightRig.PACKED);
        rig.region.putShort(desc(3) + NEXT, (short) 1);
        assertRecoveryFails(rig, "the free list loops");
    }

    @ParameterizedTest(name = "old_used_idx {0}")
    @ValueSource(ints = {16, 40, 0x7fff, 0x8003, 0xffff})
    void usedIndexOutsideTheRingIsRefused(int index) throws Exception {
        // a publish in progress: the slot at old_used_idx decides
        corruptAndFail(rig -> {
            rig.region.putShort(USED_IDX, (short) 2);
            rig.region.putShort(OLD_USED_IDX, (short) index);
        }, "outside a ring of 16");
        // committed
        corruptAndFail(rig -> {
            rig.region.putShort(USED_IDX, (short) index);
            rig.region.putShort(OLD_USED_IDX, (short) index);
        }, "outside a ring of 16");
    }

    @ParameterizedTest(name = "num {0}")
    @ValueSource(ints = {0, 17, 0xffff})
    void chainLengthOutsideTheRingIsRefused(int num) throws Exception {
        int[] heads = new int[3];
        InflightRig rig = recorded(heads);
        rig.region.putShort(desc(heads[1]) + NUM, (short) num);
        assertRecoveryFails(rig, "a chain of " + num + " descriptors");
    }

    @ParameterizedTest(name = "next {0}")
    @ValueSource(ints = {16, 200, 0xffff})
    void chainEntryOutsideTheRingIsRefused(int next) throws Exception {
        int[] heads = new int[3];
        InflightRig rig = recorded(heads);
        int h = head(rig, heads, 3);
        rig.region.putShort(desc(h) + NEXT, (short) next);
        assertRecoveryFails(rig, "chain entry " + next + " outside");
    }

    @Test
    void lastEntryNotMatchingTheListIsRefused() throws Exception {
        int[] heads = new int[3];
        InflightRig rig = recorded(heads);
        int h = head(rig, heads, 2);
        rig.region.putShort(desc(h) + LAST, (short) h);
        assertRecoveryFails(rig, "last entry does not match");
    }

    /** A hand-made region: nothing free, entries linked in a circle, two chains of 9 and 8 descriptors. */
    @Test
    void chainsTogetherLongerThanTheRingAreRefused() throws Exception {
        InflightRig rig = new InflightRig(SIZE, InflightRig.PACKED);
        ByteBuffer r = rig.region;
        r.putShort(FREE_HEAD, (short) SIZE).putShort(OLD_FREE_HEAD, (short) SIZE);
        for (int e = 0; e < SIZE; e++) {
            r.putShort(desc(e) + NEXT, (short) ((e + 1) % SIZE));
        }
        r.put(desc(0) + INFLIGHT, (byte) 1).putLong(desc(0) + COUNTER, 1).putShort(desc(0) + NUM, (short) 9)
                .putShort(desc(0) + LAST, (short) 8);
        r.put(desc(8) + INFLIGHT, (byte) 1).putLong(desc(8) + COUNTER, 2).putShort(desc(8) + NUM, (short) 8)
                .putShort(desc(8) + LAST, (short) 15);
        assertRecoveryFails(rig, "take more than the 16 ring slots");
    }

    @ParameterizedTest(name = "counter {0}")
    @ValueSource(longs = {1, -1, Long.MAX_VALUE, Long.MIN_VALUE})
    void anyCountersStillRecoverEveryChainOnce(long counter) throws Exception {
        int[] heads = new int[3];
        InflightRig rig = recorded(heads);
        for (int h : heads) {
            rig.region.putLong(desc(h) + COUNTER, counter); // equal, or huge
        }
        Recovered r = rig.restart(InflightRig.PACKED_START, InflightRig.PACKED_START);
        assertThat(r.resubmissions()).hasSize(3);
        rig.add(3, false); // a new pop after such counters, then another crash
        Held[] held = new Held[4];
        for (int i = 0; i < 4; i++) {
            held[i] = rig.pop();
        }
        rig.complete(held[3]);
        rig.publish(Stop.NONE);
        assertThat(rig.drain()).containsExactly(3);
        assertThat(rig.restart(InflightRig.PACKED_START, InflightRig.PACKED_START).resubmissions()).hasSize(3);
        for (int i = 0; i < 3; i++) {
            rig.complete(rig.pop());
        }
        rig.publish(Stop.NONE);
        assertThat(rig.drain()).containsExactlyInAnyOrder(0, 1, 2);
        rig.assertIdle();
    }

    @Test
    void versionOrSizeMismatchIsNotAFit() {
        ByteBuffer region = InflightRig.freshRegion(SIZE, true);
        assertThat(InflightArea.fits(region, SIZE)).isTrue();
        assertThat(InflightArea.fits(region, SIZE * 2)).isFalse();
        region.putShort(InflightArea.VERSION_OFFSET, (short) 2);
        assertThat(InflightArea.fits(region, SIZE)).isFalse();
        region.putShort(InflightArea.VERSION_OFFSET, (short) 0);
        assertThat(InflightArea.fits(region, SIZE)).isFalse();
    }

    // ------------------------------------------------------------------ while recording

    @Test
    void emptyFreeListStopsRecordingAndTheRingGoesOn() throws Exception {
        InflightRig rig = new InflightRig(SIZE, InflightRig.PACKED);
        rig.region.putShort(FREE_HEAD, (short) SIZE).putShort(OLD_FREE_HEAD, (short) SIZE);
        rig.restart(InflightRig.PACKED_START, InflightRig.PACKED_START);
        rig.roundTrips(20, 0);
        rig.assertIdle();
    }

    @Test
    void freeListRunningOutMidChainStopsRecording() throws Exception {
        InflightRig rig = new InflightRig(SIZE, InflightRig.PACKED);
        rig.region.putShort(desc(0) + NEXT, (short) SIZE); // one free entry
        rig.restart(InflightRig.PACKED_START, InflightRig.PACKED_START);
        rig.add(2, false); // three descriptors
        Held h = rig.pop();
        rig.complete(h);
        rig.publish(Stop.NONE);
        assertThat(rig.drain()).containsExactly(2);
        rig.roundTrips(20, 1000);
        rig.assertIdle();
    }

    /** The front end rewrites the {@code last} of the chains in flight while the ring runs. */
    @ParameterizedTest(name = "last {0}")
    @ValueSource(ints = {16, 0xffff})
    void lastRewrittenWhileRecordingStopsRecording(int last) throws Exception {
        InflightRig rig = new InflightRig(SIZE, InflightRig.PACKED);
        rig.roundTrips(5, 1000);
        Held[] held = new Held[3];
        for (int t = 0; t < 3; t++) {
            rig.add(t, false);
            held[t] = rig.pop();
        }
        for (int e = 0; e < SIZE; e++) {
            if (rig.region.get(desc(e) + INFLIGHT) != 0) {
                rig.region.putShort(desc(e) + LAST, (short) last);
            }
        }
        rig.complete(held[2]);
        rig.complete(held[0]);
        rig.publish(Stop.NONE);
        assertThat(rig.drain()).containsExactlyInAnyOrder(2, 0);
        rig.complete(held[1]);
        rig.publish(Stop.NONE);
        assertThat(rig.drain()).containsExactly(1);
        rig.roundTrips(20, 2000);
        rig.assertIdle();
    }

    // ------------------------------------------------------------------ anything at all

    /**
     * Random bytes over a recorded region (version and size kept, else the area is not used at all):
     * recovery either fails with {@link Failure} or gives positions and chains that a device ring
     * accepts or refuses without an exception; popping them breaks the queue at worst.
     */
    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {true, false})
    void randomCorruptionFailsCleanly(boolean packed) throws Exception {
        Random random = new Random(packed ? 7 : 11);
        int recovered = 0;
        int failed = 0;
        for (int round = 0; round < 400; round++) {
            InflightRig rig = new InflightRig(SIZE, packed ? InflightRig.PACKED : InflightRig.SPLIT);
            rig.roundTrips(random.nextInt(20), 1000);
            for (int t = 0; t < 3; t++) {
                rig.add(t, false);
                rig.pop();
            }
            ByteBuffer r = rig.region;
            int flips = 1 + random.nextInt(round < 200 ? 4 : 64);
            for (int i = 0; i < flips; i++) {
                int at = 12 + random.nextInt(r.capacity() - 12);
                r.put(at, (byte) random.nextInt());
            }
            InflightTracker tracker = packed ? new PackedInflight(r, SIZE) : new SplitInflight(r, SIZE);
            Recovered rec;
            try {
                int base = packed ? InflightRig.PACKED_START : rig.usedIdx();
                rec = tracker.recover(rig.memory.map(), rig.config, base, base);
            } catch (Failure e) {
                failed++;
                continue;
            }
            recovered++;
            DeviceVring ring;
            try {
                ring = Vrings.device(rig.config, rig.features, rig.memory.map(), rec.availPosition(),
                        rec.usedPosition());
            } catch (VringSetupException e) {
                throw new AssertionError("recovery gave positions a ring refuses: " + rec, e);
            }
            for (Recovered.Resubmission s : rec.resubmissions()) {
                s.resubmitTo(ring);
            }
            // the device serves them, and new chains, recorded by the tracker that recovered
            tracker.placed(rig.config, rig.memory.map());
            rig.add(3, false);
            DescriptorChain chain = ring.newChain();
            for (int i = 0; i < 2 * SIZE; i++) {
                int availBefore = ring.availPosition();
                if (!ring.pop(chain)) {
                    break;
                }
                tracker.popped(ring, availBefore, chain);
                ring.addUsed(chain, 0);
                tracker.used(chain.head());
                if (i % 2 == 1) {
                    tracker.publishing(ring);
                    ring.publishUsed();
                    tracker.published(ring);
                }
            }
            tracker.publishing(ring);
            ring.publishUsed();
            tracker.published(ring);
            assertThat(rig.memory.guardsIntact()).isTrue();
        }
        assertThat(recovered).isPositive();
        if (packed) {
            assertThat(failed).isPositive();
        }
    }
}
