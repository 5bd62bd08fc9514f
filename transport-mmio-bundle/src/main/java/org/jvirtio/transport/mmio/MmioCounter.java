package org.jvirtio.transport.mmio;

/**
 * What a {@link VirtioMmioTransport} counts: the traffic, and every kind of driver access the
 * specification forbids (each one also logged; none ever throws out of the model).
 */
public enum MmioCounter {
    /** QueueNotify writes that reached a queue. */
    NOTIFIES,
    /** Used-buffer notifications the device raised. */
    USED_INTERRUPTS,
    /** Configuration-change notifications (the device's, and those that report DEVICE_NEEDS_RESET). */
    CONFIG_INTERRUPTS,
    /** A control register accessed with a width other than 32 bits, or config space with other than 1, 2, 4. */
    WRONG_SIZE,
    /** An access not aligned to its width. */
    MISALIGNED,
    /** An offset outside the window, or between registers. */
    UNKNOWN_REGISTER,
    /** A read of a write-only register (answered 0). */
    READ_OF_WRITE_ONLY,
    /** A write to a read-only register (ignored). */
    WRITE_TO_READ_ONLY,
    /** A queue register written for a QueueSel the device does not have (ignored). */
    NO_SUCH_QUEUE,
    /** QueueNum or a ring address written while the queue is ready (ignored, spec 4.2.2.2). */
    QUEUE_CHANGED_WHILE_READY,
    /** QueueReady set before FEATURES_OK (ignored: the ring format is not known yet). */
    QUEUE_READY_TOO_EARLY,
    /** QueueReady set for a queue whose size or ring addresses cannot work (DEVICE_NEEDS_RESET). */
    BAD_QUEUE_SETUP,
    /** QueueNotify of a queue index the device does not have (ignored). */
    NOTIFY_NO_SUCH_QUEUE,
    /** QueueNotify of a queue that is not ready, or before DRIVER_OK (ignored). */
    NOTIFY_NOT_READY,
    /** QueueReset written without VIRTIO_F_RING_RESET negotiated (ignored). */
    QUEUE_RESET_NOT_NEGOTIATED,
    /** DriverFeatures written after FEATURES_OK (ignored). */
    FEATURES_AFTER_FEATURES_OK,
    /** FEATURES_OK refused: unoffered features, or no VERSION_1 (status read back without it). */
    FEATURES_REFUSED,
    /** A Status write that skips or clears steps (ignored). */
    BAD_STATUS_TRANSITION,
    /** InterruptACK with bits that are not pending, or undefined. */
    BAD_INTERRUPT_ACK,
    /** Times DEVICE_NEEDS_RESET was set: failed activation, broken queue, device request. */
    DEVICE_NEEDS_RESET,
    /**
     * Times the device did not let go of a queue within the bound a reset or ring change waits (it did
     * not return from serving it): the register write went on without it (DEVICE_NEEDS_RESET).
     *
     * @since 1.1
     */
    DEVICE_STUCK
}
