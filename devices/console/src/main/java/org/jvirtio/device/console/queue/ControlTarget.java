package org.jvirtio.device.console.queue;

import org.jvirtio.device.console.ConsoleCounter;

/** What the driver's control messages ask of the device; each answer is a counter to bump, or null. */
public interface ControlTarget {

    /** DEVICE_READY: the driver is set up ({@code ok}) or failed. */
    ConsoleCounter deviceReady(boolean ok);

    /** PORT_READY for {@code port}, below max_nr_ports. */
    ConsoleCounter portReady(int port, boolean ok);

    /** PORT_OPEN for {@code port}, below max_nr_ports: a guest program opened or closed it. */
    ConsoleCounter portOpen(int port, boolean open);
}
