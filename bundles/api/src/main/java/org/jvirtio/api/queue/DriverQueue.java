package org.jvirtio.api.queue;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The driver side of one virtqueue, for Java front ends (a vhost-user front end, tests, benchmarks).
 * Not thread-safe: one thread adds and collects. The device on the other side is untrusted: a used
 * element that names a buffer not in flight breaks the queue ({@link #error()}), it never corrupts
 * the driver's bookkeeping.
 */
@ProviderType
public interface DriverQueue {

    /** Returned by {@link #pollUsed()} when no used buffer is pending. */
    int NO_TOKEN = -1;

    /** Entries in the ring. */
    int size();

    /** Ring descriptors free now. */
    int freeDescriptors();

    /**
     * Makes {@code buffers} available (not yet visible to the device: see {@link #kick()}).
     *
     * @param token    a non-negative value returned by {@link #pollUsed()} when the device used it
     * @param indirect whether to place the list in an indirect table (needs INDIRECT_DESC)
     * @return false if there is no room now (no free descriptors or indirect tables)
     */
    boolean add(ScatterGatherList buffers, int token, boolean indirect);

    /**
     * Publishes every buffer added since the last call with one release store, and decides per
     * EVENT_IDX or the device's NO_NOTIFY flag whether the device must be notified.
     *
     * @return true if the caller must notify (kick) the device
     */
    boolean kick();

    /**
     * Takes the next used buffer.
     *
     * @return its token, or {@link #NO_TOKEN} if none is pending or the queue is broken
     */
    int pollUsed();

    /** Bytes the device reported written for the buffer last returned by {@link #pollUsed()}. */
    int lastUsedLength();

    /** Asks the device not to interrupt while the driver polls. */
    void disableInterrupts();

    /**
     * Asks the device to interrupt again, then re-checks (after a full fence) for used buffers that
     * arrived in between.
     *
     * @return true if used buffers are pending: keep polling
     */
    boolean enableInterrupts();

    /** Buffers added and not yet used. */
    int inFlight();

    /** Why the queue stopped, or {@link QueueError#NONE}. */
    QueueError error();
}
