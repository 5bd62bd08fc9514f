package org.jvirtio.transport.vhostuser.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.vring.QueueCounters;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * With IN_ORDER the ring holds a completion back until the chains popped before it are complete; the
 * in-flight record must treat it as in flight until then, or a back end dying meanwhile loses it. The
 * device side here is the real {@link QueueSlot} over a real ring and tracker.
 */
class InOrderInflightTest {

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void aCompletionHeldBackByTheRingStaysInFlightUntilReleased(boolean packed) throws Exception {
        long features = (packed ? InflightRig.PACKED : InflightRig.SPLIT) | VirtioFeature.bit(VirtioFeature.IN_ORDER);
        InflightRig rig = new InflightRig(16, features);
        QueueSlot slot = new QueueSlot(new Object(), new QueueCounters());
        slot.plug(rig.ring, rig.tracker, true);
        DescriptorChain chain = slot.newChain();
        int[] heads = new int[3];
        int[] slots = new int[3];
        int[] written = new int[3];
        for (int token = 0; token < 3; token++) {
            rig.add(token, false);
        }
        for (int i = 0; i < 3; i++) {
            assertThat(slot.pop(chain)).isTrue();
            heads[i] = chain.head();
            slots[i] = chain.ringSlots();
            written[i] = chain.length(chain.count() - 1);
        }

        slot.addUsed(heads[2], slots[2], written[2]); // held back by the ring: 0 and 1 are not complete
        slot.addUsed(heads[0], slots[0], written[0]); // released
        slot.publishUsed();
        assertThat(rig.drain()).as("what the driver sees").containsExactly(0);

        // the back end dies here: 1 was never completed, 2 was completed but never reached the driver
        Recovered recovered = rig.restart(packed ? InflightRig.PACKED_START : 0, InflightRig.PACKED_START);
        assertThat(recovered.resubmissions()).as("resubmitted: tokens 1 and 2").hasSize(2);
        for (int i = 0; i < 2; i++) {
            rig.complete(rig.pop());
        }
        rig.publish(InflightRig.Stop.NONE);
        assertThat(rig.drain()).containsExactly(1, 2);
        assertThat(rig.seen()).containsExactly(0, 1, 2);
        rig.assertIdle();
    }
}
