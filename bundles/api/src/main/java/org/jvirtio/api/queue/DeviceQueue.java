package org.jvirtio.api.queue;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The device side of one virtqueue, for device models. Not thread-safe: one worker serves a queue,
 * on the thread the transport calls {@code queueNotified} on or on a thread of the device's own. A
 * device that uses the queue from any other thread (a receive queue filled on the sender's thread)
 * holds {@link #serveLock()} for every call.
 *
 * <p>A worker's loop:
 * <pre>{@code
 * DescriptorChain chain = queue.newChain();
 * do {
 *     queue.disableNotifications();
 *     while (queue.pop(chain)) {
 *         int written = handle(chain);
 *         queue.addUsed(chain, written);
 *     }
 * } while (queue.enableNotifications());
 * if (queue.publishUsed()) interrupt.notifyUsed(index);
 * if (queue.error() != QueueError.NONE) transport.needsReset();
 * }</pre>
 */
@ProviderType
public interface DeviceQueue {

    /** Entries in the ring. */
    int size();

    /** A chain view able to hold any chain of this queue; allocates, so create it once per worker. */
    DescriptorChain newChain();

    /**
     * Takes the next available chain into {@code chain}, validated in full.
     *
     * @return true if {@code chain} now holds a chain; false if none is available or the queue is
     *         broken, in which case {@link #error()} says why and every later call returns false
     */
    boolean pop(DescriptorChain chain);

    /** Whether a chain is available now (or the queue is broken and pop would report it). */
    boolean hasAvailable();

    /**
     * Queues a used element for {@code head}; nothing is visible to the driver until
     * {@link #publishUsed()}. With VIRTIO_F_IN_ORDER, completions that arrive out of order are held
     * back until all earlier chains are used.
     *
     * @param ringSlots     the chain's {@link DescriptorChain#ringSlots()}
     * @param writtenLength bytes the device wrote into the chain's writable descriptors
     */
    void addUsed(int head, int ringSlots, int writtenLength);

    /** {@code addUsed(chain.head(), chain.ringSlots(), writtenLength)}. */
    default void addUsed(DescriptorChain chain, int writtenLength) {
        addUsed(chain.head(), chain.ringSlots(), writtenLength);
    }

    /**
     * Makes every queued used element visible to the driver with one release store and decides,
     * per EVENT_IDX or the driver's NO_INTERRUPT flag, whether the driver must be interrupted.
     *
     * @return true if the transport must notify the driver
     */
    boolean publishUsed();

    /** Asks the driver not to kick while the worker is polling anyway. */
    void disableNotifications();

    /**
     * Asks the driver to kick again, then re-checks the ring (after a full fence) so that a chain made
     * available in between is not missed.
     *
     * @return true if chains are available: the worker must keep polling
     */
    boolean enableNotifications();

    /** Why the queue stopped, or {@link QueueError#NONE}. */
    QueueError error();

    /**
     * The lock the transport holds while it has the device serve this queue ({@code queueNotified}),
     * and takes before it changes the ring underneath (memory table replaced, ring stopped or moved).
     * A thread that is not serving the queue for the transport holds it around each use of the queue,
     * so that such a change never meets a pop or a copy half done. Whoever holds it takes no other
     * lock of the transport or of another device meanwhile (it is the innermost lock), and a transport
     * takes several serve locks only one after another, never nested: a device sending to another
     * device's queue while serving its own cannot deadlock.
     *
     * @since 1.1
     */
    default Object serveLock() {
        return this;
    }
}
