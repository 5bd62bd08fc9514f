package org.jvirtio.transport.vhostuser.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.nativeio.MappedMemory;
import org.jvirtio.transport.vhostuser.internal.InflightRig.Held;
import org.jvirtio.transport.vhostuser.internal.InflightRig.Stop;
import org.jvirtio.vring.testkit.TestMemory;

/**
 * Where a recovered ring resumes: a region that never recorded a fetch defers to the positions the
 * front end gives; a region that did is authoritative over a stale base (QEMU 7.2 sends the packed
 * base of the ring's last start after a back-end crash). Also: an area installed on a running ring
 * (attach) whose device already holds chains; and two queues' regions side by side.
 */
@Timeout(60)
class InflightPositionsTest {
    private static final int SIZE = 16;
    private static final int USED_IDX = 16;
    private static final int OLD_USED_IDX = 18;

    @Test
    void packedFreshRegionDefersToTheGivenPositions() throws Exception {
        InflightRig rig = new InflightRig(SIZE, InflightRig.PACKED);
        ByteBuffer region = InflightRig.freshRegion(SIZE, true);
        Recovered r = new PackedInflight(region, SIZE).recover(rig.memory.map(), rig.config, 5, 3);
        assertThat(r.availPosition()).isEqualTo(5);
        assertThat(r.usedPosition()).isEqualTo(3);
        assertThat(r.resubmissions()).isEmpty();
        assertThat(region.getShort(USED_IDX)).as("the region now records the given used position").isEqualTo((short) 3);
        assertThat(region.getShort(OLD_USED_IDX)).isEqualTo((short) 3);
    }

    @Test
    void packedRegionWithoutAFetchSinceItsAttachStillDefers() throws Exception {
        InflightRig rig = new InflightRig(SIZE, InflightRig.PACKED);
        Recovered r = rig.restart(InflightRig.PACKED_START, InflightRig.PACKED_START);
        assertThat(r.availPosition()).isEqualTo(InflightRig.PACKED_START);
        assertThat(r.resubmissions()).isEmpty();
        rig.roundTrips(20, 0);
        rig.assertIdle();
    }

    @ParameterizedTest(name = "base 0x{0}")
    @ValueSource(ints = {0x8000, 0x0003, 0x800f})
    void packedUsedRegionIsAuthoritativeOverAStaleBase(int base) throws Exception {
        InflightRig rig = new InflightRig(SIZE, InflightRig.PACKED);
        rig.roundTrips(21, 1000); // chains of 1 to 3 descriptors: past a wrap or two
        rig.add(0, false);
        rig.add(1, false);
        Held first = rig.pop();
        rig.pop();
        rig.complete(first);
        rig.publish(Stop.NONE);
        assertThat(rig.drain()).containsExactly(0);
        int avail = rig.ring.availPosition();
        int used = rig.ring.usedPosition();
        assertThat(used).as("the base is stale").isNotEqualTo(base);

        Recovered r = rig.restart(base, base);
        assertThat(r.usedPosition()).isEqualTo(used);
        assertThat(r.availPosition()).isEqualTo(avail);
        assertThat(r.resubmissions()).hasSize(1);
        rig.complete(rig.pop());
        rig.publish(Stop.NONE);
        assertThat(rig.drain()).containsExactly(1);
        rig.roundTrips(20, 2000);
        rig.assertIdle();
    }

    @Test
    void splitFreshRegionResumesAtTheUsedIndex() throws Exception {
        InflightRig rig = new InflightRig(SIZE, InflightRig.SPLIT);
        rig.roundTrips(21, 1000); // the used index runs more than a ring ahead of the fresh region's
        ByteBuffer region = InflightRig.freshRegion(SIZE, false);
        Recovered r = new SplitInflight(region, SIZE).recover(rig.memory.map(), rig.config, 21, rig.usedIdx());
        assertThat(r.availPosition()).isEqualTo(21);
        assertThat(r.usedPosition()).isEqualTo(21);
        assertThat(r.resubmissions()).isEmpty();

        ByteBuffer behind = InflightRig.freshRegion(SIZE, false);
        behind.putShort(14, (short) 12); // less than a ring behind: the used ring is read, nothing is in flight
        r = new SplitInflight(behind, SIZE).recover(rig.memory.map(), rig.config, 21, 21);
        assertThat(r.resubmissions()).isEmpty();
        assertThat(behind.getShort(14)).isEqualTo((short) 21);
    }

    /**
     * An area installed while the ring runs (SET_INFLIGHT_FD after the ring started): the device may
     * complete a chain it popped before the tracker was attached. That completion must not touch the
     * record of a chain popped after it.
     */
    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {true, false})
    void completingAChainPoppedBeforeAttachKeepsLaterChainsOnRecord(boolean packed) throws Exception {
        InflightRig rig = new InflightRig(SIZE, packed ? InflightRig.PACKED : InflightRig.SPLIT);
        rig.roundTrips(3, 1000);
        rig.add(0, false);
        DescriptorChain early = rig.ring.newChain();
        assertThat(rig.ring.pop(early)).isTrue(); // no tracker yet for this pop
        Held unrecorded = new Held(early.head(), early.ringSlots(), early.length(early.count() - 1));

        rig.tracker = rig.newTracker();
        rig.tracker.attach(rig.ring);
        rig.tracker.placed(rig.config, rig.memory.map());
        rig.add(1, false);
        rig.add(2, false);
        Held recorded = rig.pop();
        rig.pop();
        rig.complete(unrecorded);
        rig.complete(recorded);
        rig.publish(Stop.NONE);
        assertThat(rig.drain()).containsExactlyInAnyOrder(0, 1);

        Recovered r = InflightCrashWindowTest.restart(rig);
        assertThat(r.resubmissions()).as("token 2 is still in flight").hasSize(1);
        Held again = rig.pop();
        assertThat(again.written()).isEqualTo(64 + 2);
        rig.complete(again);
        rig.publish(Stop.NONE);
        assertThat(rig.drain()).containsExactly(2);
        rig.roundTrips(20, 2000);
        rig.assertIdle();
    }

    /** Two queues' regions of one area, side by side: each recovers its own chains only. */
    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {true, false})
    void twoQueuesRegionsDoNotInterfere(boolean packed) throws Exception {
        long total = InflightArea.totalSize(2, SIZE, packed);
        try (InflightArea area = new InflightArea(MappedMemory.anonymous(total), 2, SIZE, packed)) {
            area.initialize();
            ByteBuffer r0 = area.region(0);
            ByteBuffer r1 = area.region(1);
            assertThat(InflightArea.fits(r0, SIZE)).isTrue();
            assertThat(InflightArea.fits(r1, SIZE)).isTrue();
            assertThat((long) r0.capacity() * 2).isEqualTo(total);
            TestMemory memory = new TestMemory(4 << 20);
            long features = packed ? InflightRig.PACKED : InflightRig.SPLIT;
            InflightRig q0 = new InflightRig(memory, SIZE, features, r0);
            InflightRig q1 = new InflightRig(memory, SIZE, features, r1);
            q0.roundTrips(7, 1000);
            q1.roundTrips(11, 1000);

            // q0: three in flight, one of them in a batch that dies before the ring publish
            Held[] a = new Held[3];
            Held[] b = new Held[5];
            for (int t = 0; t < 5; t++) {
                if (t < 3) {
                    q0.add(t, false);
                    a[t] = q0.pop();
                }
                q1.add(t, false);
                b[t] = q1.pop();
            }
            q0.complete(a[1]);
            q1.complete(b[4]);
            q1.complete(b[0]);
            q1.publish(Stop.BEFORE_PUBLISHED); // q1's batch is visible: rolled forward
            q0.publish(Stop.BEFORE_RING_PUBLISH); // q0's is not: rolled back
            assertThat(q0.drain()).isEmpty();
            assertThat(q1.drain()).containsExactlyInAnyOrder(4, 0);

            Recovered rec0 = InflightCrashWindowTest.restart(q0);
            Recovered rec1 = InflightCrashWindowTest.restart(q1);
            assertThat(rec0.resubmissions()).hasSize(3);
            assertThat(rec1.resubmissions()).hasSize(3);
            for (InflightRig q : new InflightRig[] {q0, q1}) {
                for (int i = 0; i < 3; i++) {
                    q.complete(q.pop());
                }
                q.publish(Stop.NONE);
            }
            assertThat(q0.drain()).containsExactlyInAnyOrder(0, 1, 2);
            assertThat(q1.drain()).containsExactlyInAnyOrder(1, 2, 3);
            q0.roundTrips(20, 2000);
            q1.roundTrips(20, 2000);
            q0.assertIdle();
            q1.assertIdle();
        }
    }
}
