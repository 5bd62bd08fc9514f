package org.jvirtio.transport.vhostuser.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.jvirtio.transport.vhostuser.internal.InflightRig.Held;
import org.jvirtio.transport.vhostuser.internal.InflightRig.Stop;

/**
 * A back end dies at each point of a publish (vhost-user.rst "Inflight I/O tracking"): before the
 * tracker hears of it, between the tracker's publishing() and the ring's publish, between the ring's
 * publish and published(), after it. The batch holds out-of-order completions, the device popped more
 * chains while holding it, and its used elements run across the end of the ring. A new back end
 * recovers from the same region (packed: with the stale base a front end sends after a crash) and
 * must resubmit exactly what the driver has not seen used: the batch when the driver cannot see it
 * (rolled back), not when it can (rolled forward). The driver then sees every token exactly once, and
 * the ring goes on with new chains across a wrap.
 */
@Timeout(60)
class InflightCrashWindowTest {
    private static final int SIZE = 16;
    /** Round trips before the test: the chains below start at slot 13 and run across the ring's end. */
    private static final int WARM_UP = 13;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (boolean packed : new boolean[] {true, false}) {
            for (Stop stop : Stop.values()) {
                for (int variant = 0; variant < 3; variant++) {
                    boolean eventIdx = variant == 1;
                    boolean indirect = variant == 2;
                    out.add(Arguments.of(packed ? "packed" : "split", stop, eventIdx, indirect));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}, crash {1}, event_idx={2}, indirect={3}")
    @MethodSource("cases")
    void everyTokenIsUsedExactlyOnceWhereverTheBackEndDies(String format, Stop stop, boolean eventIdx,
            boolean indirect) throws Exception {
        boolean packed = format.equals("packed");
        long features = (packed ? InflightRig.PACKED : InflightRig.SPLIT) | (eventIdx ? InflightRig.EVENT_IDX : 0)
                | (indirect ? InflightRig.INDIRECT : 0);
        InflightRig rig = new InflightRig(SIZE, features);
        rig.roundTrips(WARM_UP, 1000);

        // pops 0..3, completes 2 and 0 out of order, pops 4 and 5 while holding them, completes 5
        Held[] held = new Held[6];
        for (int t = 0; t < 4; t++) {
            rig.add(t, indirect && t % 3 == 1);
        }
        for (int t = 0; t < 4; t++) {
            held[t] = rig.pop();
        }
        int usedBefore = rig.ring.usedPosition();
        rig.complete(held[2]);
        rig.complete(held[0]);
        for (int t = 4; t < 6; t++) {
            rig.add(t, indirect && t % 3 == 1);
            held[t] = rig.pop();
        }
        rig.complete(held[5]);
        int usedAfter = rig.ring.usedPosition();
        int availAtCrash = rig.ring.availPosition();
        rig.publish(stop);

        boolean visible = stop == Stop.BEFORE_PUBLISHED || stop == Stop.NONE;
        if (visible) {
            assertThat(rig.drain()).containsExactlyInAnyOrder(2, 0, 5);
        } else {
            assertThat(rig.drain()).isEmpty();
        }

        // the back end dies; the next one recovers (packed: the front end sends the stale start base)
        Recovered recovered = restart(rig);
        List<Integer> expected = visible ? List.of(1, 3, 4) : List.of(0, 1, 2, 3, 4, 5);
        assertThat(recovered.resubmissions()).hasSize(expected.size());
        assertThat(recovered.usedPosition()).as("used position").isEqualTo(visible ? usedAfter : usedBefore);
        assertThat(recovered.availPosition()).as("avail position").isEqualTo(availAtCrash);
        assertResubmittedInFetchOrder(rig, expected);

        // it dies too, holding the resubmitted chains: they come back again, in the same order
        restart(rig);
        List<Held> again = assertResubmittedInFetchOrder(rig, expected);
        for (int i = again.size() - 1; i >= 0; i--) {
            rig.complete(again.get(i));
        }
        rig.publish(Stop.NONE);
        rig.drain();
        assertThat(rig.seen()).filteredOn(t -> t < 1000).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5);

        // new chains across the ring's end, in batches completed out of order
        for (int round = 0; round < 8; round++) {
            int first = 100 + 3 * round;
            List<Held> batch = new ArrayList<>();
            for (int t = first; t < first + 3; t++) {
                rig.add(t, indirect && t % 3 == 1);
                batch.add(rig.pop());
            }
            rig.complete(batch.get(1));
            rig.complete(batch.get(2));
            rig.complete(batch.get(0));
            rig.publish(Stop.NONE);
            assertThat(rig.drain()).containsExactlyInAnyOrder(first, first + 1, first + 2);
        }

        // a crash with nothing in flight resumes exactly where the ring was
        int avail = rig.ring.availPosition();
        int used = rig.ring.usedPosition();
        Recovered clean = restart(rig);
        assertThat(clean.resubmissions()).isEmpty();
        assertThat(clean.availPosition()).isEqualTo(avail);
        assertThat(clean.usedPosition()).isEqualTo(used);
        rig.roundTrips(3, 2000);
        assertThat(rig.seen()).hasSize(WARM_UP + 6 + 24 + 3).doesNotHaveDuplicates();
        rig.assertIdle();
    }

    /**
     * A restart as a front end does it after a crash: packed rings get the base of their last start
     * (stale), split rings the used ring's idx (QEMU resumes the avail index there).
     */
    static Recovered restart(InflightRig rig) throws Exception {
        int base = rig.packed ? InflightRig.PACKED_START : rig.usedIdx();
        return rig.restart(base, base);
    }

    /** Pops the resubmitted chains: tokens {@code expected}, in that order, not moving avail. */
    private static List<Held> assertResubmittedInFetchOrder(InflightRig rig, List<Integer> expected) {
        int avail = rig.ring.availPosition();
        List<Held> out = new ArrayList<>();
        for (int token : expected) {
            Held h = rig.pop();
            assertThat(h.written()).as("resubmitted token").isEqualTo(64 + token);
            out.add(h);
        }
        assertThat(rig.ring.availPosition()).isEqualTo(avail);
        assertThat(rig.popNothing()).as("nothing more than the resubmitted chains").isTrue();
        rig.assertHealthy();
        return out;
    }
}
