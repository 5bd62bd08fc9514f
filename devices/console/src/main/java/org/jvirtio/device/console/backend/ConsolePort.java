package org.jvirtio.device.console.backend;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ConsumerType;

/** A backend's end of one attached port: what the device calls. */
@ConsumerType
public interface ConsolePort extends AutoCloseable {

    /**
     * The guest wrote the bytes between {@code output}'s position and limit. The backend takes them all
     * (keeps, sends or drops and counts them) and advances the position to the limit; it must not block
     * for long: the guest's console driver waits for the device meanwhile. Calls for one port never
     * overlap; the buffer is the device's and is reused after the call returns.
     */
    void write(ByteBuffer output);

    /**
     * The guest has room for input again (it posted receive buffers, or opened the port): the backend
     * offers what it holds through {@link ConsoleInput#offer}, now or soon. Called on the transport's
     * thread, possibly while the transport holds the receive queue's serve lock (which {@code offer}
     * takes too): the backend may offer from inside this call, but must not wait here for a lock that
     * a thread of its own holds while it is inside {@code offer}.
     */
    void inputRoom();

    /** The device is gone: nothing is written or offered after this. */
    @Override
    void close();
}
