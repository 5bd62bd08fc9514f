package org.jvirtio.device.net;

import static org.assertj.core.api.Assertions.assertThat;

import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.ScatterGatherList;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A transmit queue publishes its completions (and flushes its backend) once per 32 frames of a batch
 * and once at the batch's end, not per frame or per 8: every publication costs the driver's and the
 * device's cores a shared cache line. Nothing is held back: every frame goes out and comes back used.
 */
class TransmitBatchTest {

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void aBatchOfFortyFramesIsPublishedTwice(boolean packed) throws Exception {
        NetRig rig = new NetRig(new CapturingBackend(), NetRig.options().queueSize(128).build(), packed, 0);
        DriverQueue tx = rig.drivers[1];
        for (int i = 0; i < 40; i++) {
            byte[] frame = Frames.withHeader(Frames.frame(Frames.mac(2), Frames.mac(1), 60, i));
            assertThat(tx.add(new ScatterGatherList(1).addReadable(rig.memory.store(frame), frame.length), i, false))
                    .isTrue();
        }
        tx.kick();
        rig.device.queueNotified(1); // one kick for the whole batch, as a driver that batches gives

        assertThat(rig.backend.sent).hasSize(40);
        assertThat(rig.backend.flushes).as("flushes: after frame 32 and at the end").isEqualTo(2);
        int used = 0;
        while (tx.pollUsed() != DriverQueue.NO_TOKEN) {
            used++;
        }
        assertThat(used).isEqualTo(40);
        rig.assertStillWorks();
    }
}
