package org.jvirtio.api.queue;

/**
 * Why a virtqueue stopped: everything a driver (or, on the driver side, a device) can write wrongly
 * into a ring. Each one breaks only its queue; the transport then sets DEVICE_NEEDS_RESET. None of them
 * is reported as a normal end of chain.
 */
public enum QueueError {
    NONE("no error"),

    // --- set-up (checked once, when the queue becomes ready) ---
    QUEUE_SIZE_INVALID("queue size is zero, over the maximum, or (split) not a power of two"),
    RING_MISALIGNED("a ring address is not aligned as the ring format requires"),
    RING_OUTSIDE_MEMORY("a ring area is not inside guest memory"),

    // --- device side: what a driver wrote ---
    AVAIL_INDEX_TOO_FAR("the available index ran more than queue size ahead of the device"),
    HEAD_OUT_OF_RANGE("an available ring entry names a descriptor outside the table"),
    NEXT_OUT_OF_RANGE("a descriptor's next index is outside the table"),
    CHAIN_TOO_LONG("a chain has more descriptors than the queue size (a loop)"),
    INDIRECT_NESTED("an indirect table contains an indirect descriptor"),
    INDIRECT_BAD_LENGTH("an indirect table's length is zero, not a multiple of 16, or too large"),
    INDIRECT_WITH_NEXT("a descriptor has both INDIRECT and NEXT set"),
    INDIRECT_NOT_NEGOTIATED("an indirect descriptor without VIRTIO_F_INDIRECT_DESC"),
    INDIRECT_OUTSIDE_MEMORY("an indirect table is not inside guest memory"),
    BUFFER_OUTSIDE_MEMORY("a buffer's address plus length overflows or leaves guest memory"),
    CHAIN_TOO_LARGE("a chain's total length exceeds 2^32 - 1 bytes"),
    READABLE_AFTER_WRITABLE("a device-readable descriptor follows a device-writable one"),
    BUFFER_ID_OUT_OF_RANGE("(packed) a buffer id is not below the queue size"),
    BUFFER_ID_IN_USE("a chain head (split) or buffer id (packed) was made available while the device still holds it"),

    // --- driver side: what a device wrote ---
    USED_INDEX_TOO_FAR("the used index ran ahead of the buffers in flight"),
    USED_ID_INVALID("a used element names a buffer that is not in flight"),
    USED_LENGTH_TOO_LARGE("a used length exceeds the writable bytes of its buffer");

    private final String description;

    QueueError(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
