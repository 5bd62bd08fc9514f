package org.jvirtio.transport.vhostuser.internal;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;

/**
 * Records one ring's pops and completions in the shared in-flight area (INFLIGHT_SHMFD), in the layout
 * of its ring format, so that a restarted back end can resubmit what was in flight. The recording
 * methods are called only by the thread serving the ring, in ring order: popped, used, then
 * publishing / published around the used elements becoming visible.
 */
interface InflightTracker {

    /**
     * Before the ring starts: repairs what a back end that died mid-batch left, and says where the
     * ring resumes and what to resubmit.
     *
     * @param availPosition where the front end says the ring resumes (SET_VRING_BASE)
     * @param usedPosition  split: the used ring's idx; packed: the used position from the front end
     * @throws Failure if the area contradicts itself (the front end can write it)
     */
    Recovered recover(GuestMemory memory, QueueConfig config, int availPosition, int usedPosition) throws Failure;

    /** Starts recording for a ring already running (an area installed after it started), at its positions. */
    void attach(DeviceVring running);

    /** Where the ring is now (at start and after every rebuild), for trackers that read its descriptors. */
    default void placed(QueueConfig config, GuestMemory memory) {
    }

    /**
     * The device popped {@code chain}. {@code availBefore} is the ring's avail position before the
     * pop: unchanged after it means the chain was a resubmitted one, already on record.
     */
    void popped(DeviceVring ring, int availBefore, DescriptorChain chain);

    /** The device completed the chain with head (split) or buffer id (packed) {@code head}. */
    void used(int head);

    /** The completions since the last publish are about to become visible to the driver. */
    void publishing(DeviceVring ring);

    /** They are visible now. */
    void published(DeviceVring ring);
}
