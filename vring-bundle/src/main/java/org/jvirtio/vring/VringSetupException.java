package org.jvirtio.vring;

import org.jvirtio.api.queue.QueueError;

/** A queue could not be built from what the driver configured: the transport sets DEVICE_NEEDS_RESET. */
public final class VringSetupException extends Exception {
    private static final long serialVersionUID = 1L;

    private final QueueError error;

    public VringSetupException(QueueError error, String detail) {
        super(error.description() + ": " + detail);
        this.error = error;
    }

    public QueueError error() {
        return error;
    }
}
