package org.jvirtio.transport.vhostuser.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * A packed device writes every used element of a batch but the first in full and flips the first one's
 * flags last. A back end that dies before that flip leaves used-looking elements behind the first
 * slot. The next back end resubmits the batch's chains; when it publishes only the first of them, the
 * driver must see exactly that one, not read on into the dead back end's elements.
 */
class PackedPartialBatchTest {

    @Test
    void aDeadBatchsLaterElementsAreNotSeenAfterTheFirstIsRepublished() throws Exception {
        InflightRig rig = new InflightRig(16, InflightRig.PACKED);
        rig.roundTrips(5, 1000); // positions off zero
        for (int token = 0; token < 3; token++) {
            rig.add(token, false);
        }
        List<InflightRig.Held> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            held.add(rig.pop());
        }
        held.forEach(rig::complete);                   // elements 2 and 3 of the batch are written in full
        rig.publish(InflightRig.Stop.BEFORE_RING_PUBLISH); // the back end dies before the first flag flips
        assertThat(rig.drain()).isEmpty();

        Recovered recovered = rig.restart(InflightRig.PACKED_START, InflightRig.PACKED_START);
        assertThat(recovered.resubmissions()).hasSize(3);
        rig.complete(rig.pop());                       // the new back end completes one and publishes it
        rig.publish(InflightRig.Stop.NONE);
        assertThat(rig.drain()).as("the driver sees only what the new back end published").containsExactly(0);

        rig.complete(rig.pop());
        rig.complete(rig.pop());
        rig.publish(InflightRig.Stop.NONE);
        assertThat(rig.drain()).containsExactly(1, 2);
        rig.assertIdle();
    }
}
