package org.jvirtio.device.net.queue;

/** What control commands change in the device; called on the control queue's thread. */
public interface ControlTarget {

    /** MAC_ADDR_SET: the device's address in configuration space becomes {@code mac}. */
    void setMac(byte[] mac);

    /** VQ_PAIRS_SET, already checked against max_virtqueue_pairs: frames go to the first {@code pairs} rx queues. */
    void setQueuePairs(int pairs);

    /** RX class PROMISC / ALLMULTI. */
    void setRxMode(boolean promiscuous, boolean allMulticast);
}
