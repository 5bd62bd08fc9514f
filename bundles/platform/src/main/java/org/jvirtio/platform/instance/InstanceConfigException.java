package org.jvirtio.platform.instance;

/** A device instance's keys cannot make a device; the message names the instance and the key. */
public final class InstanceConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public InstanceConfigException(String message) {
        super(message);
    }
}
