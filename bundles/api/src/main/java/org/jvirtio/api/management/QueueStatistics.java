package org.jvirtio.api.management;

/**
 * Counters of one queue, as a transport sees it.
 *
 * @param chains         chains the device took from the driver
 * @param completed      chains the device gave back (used)
 * @param bytesRead      bytes the driver offered to the device (device-readable parts of the chains taken)
 * @param bytesWritten   bytes the device wrote into the driver's buffers (used lengths)
 * @param kicks          notifications from the driver
 * @param interrupts     notifications to the driver
 * @param suppressed     publications after which the driver asked not to be notified (EVENT_IDX, NO_INTERRUPT)
 * @param errors         times the queue broke and the device needed a reset
 */
public record QueueStatistics(long chains, long completed, long bytesRead, long bytesWritten, long kicks,
        long interrupts, long suppressed, long errors) {
    public static final QueueStatistics NONE = new QueueStatistics(0, 0, 0, 0, 0, 0, 0, 0);
}
