package org.jvirtio.vring;

import java.nio.ByteBuffer;

import org.jvirtio.api.queue.DeviceQueue;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The device side of a ring as a transport sees it: a {@link DeviceQueue} plus the ring positions a
 * transport saves and restores (vhost-user GET/SET_VRING_BASE, a device handed from one instance to
 * the next), and the chains it hands to the device again after a back end restarted.
 *
 * <p>Positions are encoded as vhost-user encodes them: the 16-bit index for split rings; for packed
 * rings the 15-bit index with the wrap counter in bit 15.
 *
 * <h2>Resubmitting in-flight chains</h2>
 * A back end that was killed and restarted must serve again the chains the previous process popped
 * and never completed (vhost-user INFLIGHT_SHMFD). Completions may have happened out of order before
 * the crash, so those chains are not simply the ones after the used position: the transport keeps a
 * record of them, builds the ring with the available position already past them (split: used index
 * plus the number of in-flight chains; packed: used position plus the ring slots they occupied) and
 * queues each of them with {@link #resubmitSplit} or {@link #resubmitPacked}, before the first pop.
 * Then:
 * <ul>
 * <li>{@link #pop} returns the resubmitted chains first, in the order they were resubmitted, before
 *     anything new from the available ring. They do not move {@link #availPosition()}: that is how a
 *     transport tells a resubmitted pop from a fresh one.</li>
 * <li>They are validated on pop exactly like fresh chains, because they come from memory the driver
 *     (or the front end) can write: a bad one breaks the queue with its specific
 *     {@link org.jvirtio.api.queue.QueueError}, never an exception.</li>
 * <li>Once popped they are ordinary held chains: they count in {@link #inFlight()}, and
 *     {@link #addUsed} / {@link #publishUsed} complete them as any other; with VIRTIO_F_IN_ORDER they
 *     enter the in-order bookkeeping in resubmit order, as pops do.</li>
 * <li>{@link #hasAvailable()} and {@link #enableNotifications()} report true while any wait, so a
 *     worker does not go to sleep on them.</li>
 * </ul>
 * Recovery is not the hot path: storage for resubmitted chains is allocated on the first resubmit
 * call and dropped once the last of them is popped.
 */
@ProviderType
public interface DeviceVring extends DeviceQueue {

    /** Where the device will look for the next available buffer. */
    int availPosition();

    /** Where the device will write the next used element (after everything added is published). */
    int usedPosition();

    /** Chains popped and not yet used (held by the device). */
    int inFlight();

    /** Whether this is a packed ring. */
    boolean isPacked();

    /**
     * Split rings: queues the chain whose head is descriptor-table entry {@code head} so that the next
     * pops return it (in the order of resubmit calls) before anything new from the available ring. The
     * chain is walked from the descriptor table when it is popped, as a fresh chain is; its
     * {@link org.jvirtio.api.queue.DescriptorChain#head() head} is {@code head} and it takes one ring
     * slot.
     *
     * @return false, changing nothing, if this is a packed ring, {@code head} is negative or
     *         {@code >= size()}, or that head is already queued or held by the device
     */
    boolean resubmitSplit(int head);

    /**
     * Packed rings: queues a chain given as copies of the {@code count} ring descriptors it occupied
     * (the ring slots themselves may since hold used elements written for other buffers), 16 bytes each
     * in the packed descriptor layout, little-endian whatever the buffer's byte order, starting at
     * {@code descriptors.position()}: addr u64, len u32, id u16, flags u16. The bytes are copied now;
     * the buffer's position and limit are left as they were.
     *
     * <p>On pop the copies are walked as the ring would be, except that their AVAIL and USED bits are
     * ignored: the chain must span exactly the {@code count} copies, NEXT on every one but the last
     * (a chain that runs past the last copy, or ends before it, is
     * {@link org.jvirtio.api.queue.QueueError#CHAIN_TOO_LONG}, as a chain that runs past what the
     * driver made available); an indirect descriptor stands alone ({@code count} 1). The buffer id is
     * taken from the last descriptor (as in the ring) and must be below the size and not held; the
     * chain's {@link org.jvirtio.api.queue.DescriptorChain#ringSlots() ringSlots} is {@code count}.
     *
     * @return false, changing nothing, if this is a split ring, {@code count < 1}, {@code descriptors}
     *         holds fewer than {@code 16 * count} bytes after its position, or the descriptors of the
     *         chains resubmitted and not yet popped would together exceed the ring size
     */
    boolean resubmitPacked(ByteBuffer descriptors, int count);
}
