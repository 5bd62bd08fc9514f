package org.jvirtio.transport.vhostuser.internal;

import java.util.List;

import org.jvirtio.vring.DeviceVring;

/**
 * What in-flight recovery found for a ring about to start: where the device resumes (encoded as
 * {@code DeviceVring} positions) and the chains to hand it again, in the order they were first fetched.
 */
record Recovered(int availPosition, int usedPosition, List<Resubmission> resubmissions) {

    /** One chain to resubmit. */
    interface Resubmission {
        /** Queues the chain on {@code ring}; false if the ring refuses it. */
        boolean resubmitTo(DeviceVring ring);
    }
}
