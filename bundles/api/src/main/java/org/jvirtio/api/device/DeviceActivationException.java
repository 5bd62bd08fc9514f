package org.jvirtio.api.device;

/** A device cannot start with what the driver negotiated or set up. */
public final class DeviceActivationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DeviceActivationException(String message) {
        super(message);
    }

    public DeviceActivationException(String message, Throwable cause) {
        super(message, cause);
    }
}
