package org.jvirtio.device.blk;

/** What a queue counts besides errors ({@link org.jvirtio.device.blk.request.RequestError}). */
public enum BlockCounter {
    /** Chains taken from the ring, good or bad. */
    REQUESTS,
    READS,
    WRITES,
    FLUSHES,
    GET_IDS,
    DISCARDS,
    WRITE_ZEROES,
    BYTES_READ,
    BYTES_WRITTEN,
    /** Kicks delivered by the transport ({@code queueNotified}). */
    KICKS,
    /** Used-buffer notifications sent to the driver. */
    INTERRUPTS
}
