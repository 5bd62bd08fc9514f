package org.jvirtio.device.console.backend;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Where one virtio-console port's bytes go and come from: a socket a user attaches to, a log file, a
 * buffer in memory. A backend serves one port at a time; the device attaches when it is created (so the
 * guest's emergency writes and boot output reach the backend before any driver runs) and closes the
 * port when it goes away. Guest resets do not detach: a user attached to the socket stays attached
 * across a guest reboot.
 */
@ConsumerType
public interface ConsoleBackend {

    /** The service property that says which port of its device a backend serves (an int, default 0). */
    String PORT_PROPERTY = "port";

    /**
     * Attaches a port.
     *
     * @param input where the backend offers the host's bytes for the guest; safe to call from any thread
     * @return the port's output side; the device writes the guest's bytes through it and closes it when
     *         the device goes away
     * @throws IllegalStateException if another port is attached (a backend serves one port at a time)
     */
    ConsolePort attach(ConsoleInput input);
}
