package org.jvirtio.distribution;

import java.io.IOException;

/** A {@link DeviceSpec} brought to life: served over vhost-user until closed. */
interface ServedDevice extends AutoCloseable {

    DeviceSpec spec();

    /** What the user is told about this device once it listens (or connects). */
    String describe();

    /** Stops serving (the guest's connection ends, the device resets) and releases the backend. */
    @Override
    void close() throws IOException;
}
