package org.jvirtio.device.console;

/** virtio-console feature bits (virtio 1.2 section 5.3.3). */
public final class ConsoleFeatures {
    /** cols and rows in configuration space are valid. */
    public static final int SIZE = 0;
    /** max_nr_ports is valid; control queues and ports beyond port 0 exist. */
    public static final int MULTIPORT = 1;
    /** The driver may write a character to emerg_wr. */
    public static final int EMERG_WRITE = 2;

    private ConsoleFeatures() {
    }
}
