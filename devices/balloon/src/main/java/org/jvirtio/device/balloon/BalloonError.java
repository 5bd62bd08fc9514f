package org.jvirtio.device.balloon;

/**
 * What a driver (or the host) got wrong. Each is counted, logged (the first time and then at every
 * power of two) and costs only the request it came with: the queue goes on.
 */
public enum BalloonError {
    /** An inflate, deflate or stats chain with device-writable descriptors (those queues carry driver data only). */
    WRITABLE_DESCRIPTOR,
    /** An inflate or deflate chain whose length is not a whole number of 32-bit page frame numbers. */
    ODD_LENGTH,
    /** An inflate or deflate chain with more page frame numbers than {@code MAX_PFNS_PER_REQUEST}. */
    TOO_MANY_PFNS,
    /** A page frame number whose page is not (wholly) guest memory: skipped, never touched. */
    PFN_OUTSIDE_MEMORY,
    /** A page frame number whose page straddles two regions: not released. */
    PFN_STRADDLES_REGION,
    /** A statistics entry with a tag this device does not know: skipped. */
    STATS_UNKNOWN_TAG,
    /** A statistics buffer that ends inside an entry: the partial entry is ignored. */
    STATS_TRUNCATED,
    /** A free page report or hint with device-readable descriptors where only writable ones belong. */
    READABLE_DESCRIPTOR,
    /** A reported or hinted range that is not (wholly, in one region) guest memory: skipped. */
    RANGE_OUTSIDE_MEMORY,
    /** A reported range not aligned to 4 KiB pages: skipped. */
    RANGE_UNALIGNED,
    /** A free page hint command that is not one 32-bit id. */
    BAD_HINT_COMMAND,
    /** The host refused to release memory (madvise failed): the pages stay. */
    RELEASE_FAILED,
    /** The host set a target above the guest's memory: cut to the guest's memory. */
    TARGET_ABOVE_MEMORY,
    /** The driver reported a balloon (actual) larger than the guest's memory. */
    ACTUAL_ABOVE_MEMORY
}
