package org.jvirtio.transport.pci.internal;

/**
 * Everything an untrusted driver (through the VMM) can do wrong to a virtio-pci function, each counted
 * under its own name. None of them escapes as an exception: the access is answered (zero or all-ones)
 * or ignored, or the device is put in DEVICE_NEEDS_RESET.
 */
public enum Fault {
    CONFIG_OUT_OF_RANGE("config-out-of-range", "configuration-space access outside 256 bytes or of a bad size"),
    BAR_OUT_OF_RANGE("bar-out-of-range", "BAR access to a BAR that does not exist or past its end"),
    BAD_ACCESS_SIZE("bad-access-size", "register access with a width or alignment the register does not take"),
    READ_ONLY_WRITE("read-only-write", "write to a read-only register"),
    INVALID_STATUS("invalid-status", "device_status write that is not a valid transition"),
    FEATURES_REJECTED("features-rejected", "FEATURES_OK refused: features not offered, or no VERSION_1"),
    FEATURES_LOCKED("features-locked", "driver_feature write after FEATURES_OK"),
    NO_SUCH_QUEUE("no-such-queue", "queue register access with queue_select past num_queues"),
    QUEUE_ENABLED("queue-enabled", "queue set-up write while the queue is enabled"),
    QUEUE_SIZE_INVALID("queue-size-invalid", "queue_size zero, over the maximum, or (split) not a power of two"),
    QUEUE_ENABLE_INVALID("queue-enable-invalid", "queue_enable write of 0, or before FEATURES_OK"),
    QUEUE_SETUP_FAILED("queue-setup-failed", "queue rings not valid in guest memory"),
    QUEUE_BROKEN("queue-broken", "a queue stopped on a driver error"),
    QUEUE_RESET_INVALID("queue-reset-invalid", "queue_reset write without RING_RESET or of a value other than 1"),
    NOTIFY_UNKNOWN_QUEUE("notify-unknown-queue", "notification for a queue that does not exist"),
    MSIX_BAD_ACCESS("msix-bad-access", "MSI-X table or PBA access not 4 or 8 bytes and aligned"),
    PCI_CFG_WINDOW_INVALID("pci-cfg-window-invalid", "PCI_CFG access window with a bad bar, offset or length"),
    ACTIVATION_FAILED("activation-failed", "the device could not start with what was negotiated"),
    DEVICE_NEEDS_RESET("device-needs-reset", "the device asked for a reset"),
    DEVICE_STUCK("device-stuck", "the device did not let go of a queue in time for a reset or ring change");

    private final String counterName;
    private final String description;

    Fault(String counterName, String description) {
        this.counterName = counterName;
        this.description = description;
    }

    /** The name under which the fault is counted. */
    public String counterName() {
        return counterName;
    }

    public String description() {
        return description;
    }
}
